//! Roles, clients, role mappings (name + id rule), groups and memberships (§3, §10).

use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn realm_roles_create_conflict_and_lookup() {
    let env = start().await;
    let r = env
        .post(
            "/roles",
            json!({"name": "billing admin", "id": "ignored", "description": "d"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        r.location.as_deref(),
        Some(env.realm_url("/roles/billing%20admin").as_str()),
        "Location ends with the role name"
    );
    let r = env.post("/roles", json!({"name": "billing admin"})).await;
    assert_eq!(r.status, 409);
    assert_eq!(
        r.json(),
        json!({"errorMessage": "Role with name billing admin already exists"})
    );
    let role = env.get("/roles/billing%20admin").await.json();
    assert_ne!(role["id"], "ignored");
    assert_eq!(role["description"], "d");
    assert_eq!(role["clientRole"], false);
    assert_eq!(env.get("/roles/nope").await.status, 404);
    let r = env.post("/roles", json!({"name": "x", "bogus": 1})).await;
    assert_eq!(r.status, 400);
    let names: Vec<String> = env
        .get("/roles")
        .await
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect();
    assert!(
        names.contains(&"billing admin".to_string())
            && names.contains(&"offline_access".to_string())
    );
}

#[tokio::test]
async fn clients_and_client_roles() {
    let env = start().await;
    let r = env
        .post(
            "/clients",
            json!({"clientId": "shop", "publicClient": false}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let internal = r.location.unwrap().rsplit('/').next().unwrap().to_string();
    let found = env.get("/clients?clientId=shop").await.json();
    assert_eq!(found.as_array().map(Vec::len), Some(1));
    assert_eq!(found[0]["id"], internal.as_str());
    assert_eq!(env.get("/clients?clientId=sho").await.json(), json!([]));
    assert_eq!(
        env.post("/clients", json!({"clientId": "shop"}))
            .await
            .status,
        409
    );

    let r = env
        .post(
            &format!("/clients/{internal}/roles"),
            json!({"name": "buyer"}),
        )
        .await;
    assert_eq!(r.status, 201);
    assert!(r.location.unwrap().ends_with("/roles/buyer"));
    assert_eq!(
        env.post(
            &format!("/clients/{internal}/roles"),
            json!({"name": "buyer"})
        )
        .await
        .status,
        409
    );
    let role = env
        .get(&format!("/clients/{internal}/roles/buyer"))
        .await
        .json();
    assert_eq!(role["clientRole"], true);
    assert_eq!(role["containerId"], internal.as_str());
    assert_eq!(env.get("/clients/nope/roles").await.status, 404);
}

#[tokio::test]
async fn role_mapping_requires_name_and_matching_id_and_is_idempotent() {
    let env = start().await;
    env.post("/roles", json!({"name": "editor"})).await;
    let role = env.get("/roles/editor").await.json();
    let id = env.create_user(json!({"username": "ada"})).await;
    let path = format!("/users/{id}/role-mappings/realm");

    let r = env.post(&path, json!([{"name": "editor"}])).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json(), json!({"error": "Role not found"}));
    let r = env
        .post(
            &path,
            json!([{"name": "editor", "id": "00000000-0000-0000-0000-000000000000"}]),
        )
        .await;
    assert_eq!(r.status, 404);
    let r = env.post(&path, json!([{"id": role["id"]}])).await;
    assert_eq!(r.status, 404);
    for _ in 0..2 {
        let r = env
            .post(&path, json!([{"name": "editor", "id": role["id"]}]))
            .await;
        assert_eq!(r.status, 204);
    }
    let mapped = env.get(&path).await.json();
    let names: Vec<&str> = mapped
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert_eq!(names, ["default-roles-acme", "editor"]);
    let r = env
        .delete(&path, Some(json!([{"name": "editor", "id": role["id"]}])))
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(
        env.get(&path).await.json().as_array().map(Vec::len),
        Some(1)
    );

    // Client role mappings use the client's internal id in the path.
    let client = env
        .post("/clients", json!({"clientId": "shop"}))
        .await
        .location
        .unwrap();
    let cid = client.rsplit('/').next().unwrap().to_string();
    env.post(&format!("/clients/{cid}/roles"), json!({"name": "buyer"}))
        .await;
    let buyer = env.get(&format!("/clients/{cid}/roles/buyer")).await.json();
    let cpath = format!("/users/{id}/role-mappings/clients/{cid}");
    assert_eq!(
        env.post(&cpath, json!([{"name": "buyer", "id": "wrong"}]))
            .await
            .status,
        404
    );
    assert_eq!(
        env.post(&cpath, json!([{"name": "buyer", "id": buyer["id"]}]))
            .await
            .status,
        204
    );
    let all = env.get(&format!("/users/{id}/role-mappings")).await.json();
    assert_eq!(
        all["clientMappings"]["shop"]["mappings"][0]["name"],
        "buyer"
    );
    assert_eq!(all["clientMappings"]["shop"]["id"], cid.as_str());
    assert_eq!(
        env.post("/users/nobody/role-mappings/realm", json!([]))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn groups_hierarchy_conflicts_lookup_and_search() {
    let env = start().await;
    let r = env.post("/groups", json!({"name": "staff"})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let staff = r
        .location
        .clone()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(r.json()["path"], "/staff");
    let r = env.post("/groups", json!({"name": "staff"})).await;
    assert_eq!(r.status, 409);
    assert_eq!(
        r.json(),
        json!({"errorMessage": "Top level group named 'staff' already exists."})
    );
    assert_eq!(
        env.post("/groups", json!({"name": " "})).await.json(),
        json!({"errorMessage": "Group name is missing"})
    );

    let r = env
        .post(&format!("/groups/{staff}/children"), json!({"name": "eng"}))
        .await;
    assert_eq!(r.status, 201);
    let eng = r.json()["id"].as_str().unwrap().to_string();
    let r = env
        .post(&format!("/groups/{staff}/children"), json!({"name": "eng"}))
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(
        r.json(),
        json!({"errorMessage": "Sibling group named 'eng' already exists."})
    );
    env.post("/groups", json!({"name": "eng"})).await; // same name at top level is fine

    let g = env.get(&format!("/groups/{eng}")).await.json();
    assert_eq!(g["path"], "/staff/eng");
    assert_eq!(g["parentId"], staff.as_str());
    assert_eq!(
        env.get("/group-by-path/staff/eng").await.json()["id"],
        eng.as_str()
    );
    assert_eq!(env.get("/group-by-path/staff/nope").await.status, 404);
    let kids = env.get(&format!("/groups/{staff}/children")).await.json();
    assert_eq!(kids[0]["name"], "eng");

    let top = env.get("/groups").await.json();
    let names: Vec<&str> = top
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|g| g["name"].as_str())
        .collect();
    assert_eq!(names, ["eng", "staff"]);
    assert_eq!(top[1]["subGroupCount"], 1);
    let found = env.get("/groups?search=eng&exact=true").await.json();
    assert_eq!(found.as_array().map(Vec::len), Some(2));
    let staff_hit = found
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "staff")
        .unwrap();
    assert_eq!(staff_hit["subGroups"][0]["path"], "/staff/eng");
    assert_eq!(
        env.get("/groups?search=en&exact=true").await.json(),
        json!([])
    );
}

#[tokio::test]
async fn group_membership_is_idempotent_and_checks_existence() {
    let env = start().await;
    let group = env.post("/groups", json!({"name": "staff"})).await.json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let id = env.create_user(json!({"username": "ada"})).await;
    for _ in 0..2 {
        assert_eq!(
            env.put_empty(&format!("/users/{id}/groups/{group}"))
                .await
                .status,
            204
        );
    }
    let groups = env.get(&format!("/users/{id}/groups")).await.json();
    assert_eq!(groups.as_array().map(Vec::len), Some(1));
    assert_eq!(groups[0]["path"], "/staff");
    assert_eq!(
        env.get(&format!("/users/{id}/groups/count")).await.json(),
        json!({"count": 1})
    );
    let members = env.get(&format!("/groups/{group}/members")).await.json();
    assert_eq!(members[0]["username"], "ada");

    let r = env
        .put_empty(&format!("/users/{id}/groups/no-such-group"))
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json(), json!({"error": "Group not found"}));
    assert_eq!(
        env.put_empty(&format!("/users/nobody/groups/{group}"))
            .await
            .status,
        404
    );
    for _ in 0..2 {
        assert_eq!(
            env.delete(&format!("/users/{id}/groups/{group}"), None)
                .await
                .status,
            204
        );
    }
    assert_eq!(
        env.get(&format!("/users/{id}/groups")).await.json(),
        json!([])
    );
}
