//! Group paths (`/parent/child`, a `/` inside a name escaped as `\/` as Keycloak writes it)
//! turned into the tree of groups to create: every parent of a granted path must exist too.

use std::collections::BTreeMap;

/// One group to create, with the members granted this exact path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GroupNode {
    /// The group's name (unescaped).
    pub name: String,
    /// Its full path, segments escaped as in the input.
    pub path: String,
    /// Users granted this path (0 for a group that exists only as a parent).
    pub members: u64,
    /// Whether a granted path named this group (false: it exists only as a parent).
    pub granted: bool,
    pub children: BTreeMap<String, GroupNode>,
}

/// Splits a path into its escaped segments: `/a/b\/c` → `["a", "b\/c"]`. Empty segments
/// (leading, trailing or doubled `/`) are skipped.
pub(crate) fn segments(path: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in path.char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            '/' if !escaped => {
                if i > start {
                    out.push(&path[start..i]);
                }
                start = i + 1;
            }
            _ => escaped = false,
        }
    }
    if start < path.len() {
        out.push(&path[start..]);
    }
    out
}

/// An escaped segment's group name: `b\/c` → `b/c`.
pub(crate) fn unescape(segment: &str) -> String {
    segment.replace("\\/", "/")
}

/// The normalised form of a path (`/` + escaped segments), or `None` when it names no group.
pub(crate) fn normalize(path: &str) -> Option<String> {
    let segs = segments(path);
    (!segs.is_empty()).then(|| format!("/{}", segs.join("/")))
}

/// Builds the forest of top-level groups from granted paths and their member counts.
pub(crate) fn build_tree<'a>(
    paths: impl IntoIterator<Item = (&'a str, u64)>,
) -> BTreeMap<String, GroupNode> {
    let mut roots: BTreeMap<String, GroupNode> = BTreeMap::new();
    for (path, members) in paths {
        let segs = segments(path);
        let mut level = &mut roots;
        let mut prefix = String::new();
        for (depth, seg) in segs.iter().enumerate() {
            prefix.push('/');
            prefix.push_str(seg);
            let node = level
                .entry((*seg).to_string())
                .or_insert_with(|| GroupNode {
                    name: unescape(seg),
                    path: prefix.clone(),
                    members: 0,
                    granted: false,
                    children: BTreeMap::new(),
                });
            if depth + 1 == segs.len() {
                node.members += members;
                node.granted = true;
            }
            level = &mut node.children;
        }
    }
    roots
}

/// Every node of the forest, parents before children.
pub(crate) fn flatten(roots: &BTreeMap<String, GroupNode>) -> Vec<&GroupNode> {
    let mut out = Vec::new();
    let mut stack: Vec<&GroupNode> = roots.values().rev().collect();
    while let Some(node) = stack.pop() {
        out.push(node);
        stack.extend(node.children.values().rev());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_escaped_paths() {
        assert_eq!(segments("/a/b\\/c"), vec!["a", "b\\/c"]);
        assert_eq!(segments("a//b/"), vec!["a", "b"]);
        assert!(segments("/").is_empty());
        assert_eq!(unescape("R\\/D"), "R/D");
        assert_eq!(normalize("staff/eng/").as_deref(), Some("/staff/eng"));
        assert_eq!(normalize("//"), None);
    }

    #[test]
    fn parents_are_implied() {
        let tree = build_tree([("/staff/eng", 3), ("/staff", 1), ("/R\\/D", 2)]);
        let all: Vec<(&str, &str, u64, bool)> = flatten(&tree)
            .iter()
            .map(|n| (n.name.as_str(), n.path.as_str(), n.members, n.granted))
            .collect();
        assert_eq!(
            all,
            vec![
                ("R/D", "/R\\/D", 2, true),
                ("staff", "/staff", 1, true),
                ("eng", "/staff/eng", 3, true),
            ]
        );
        let only_child = build_tree([("/a/b/c", 1)]);
        let flat = flatten(&only_child);
        assert_eq!(flat.len(), 3);
        assert!(!flat[0].granted && !flat[1].granted && flat[2].granted);
    }
}
