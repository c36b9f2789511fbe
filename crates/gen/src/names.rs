//! Static tables the generator draws from: personal names grouped by culture (so a person's
//! first and last name fit together, and plenty of them are non-ASCII), e-mail domains,
//! places, and the pool of roles/groups users are assigned to.

/// A name as displayed, plus an ASCII transliteration used to build logins and e-mails
/// (providers and Keycloak accept UTF-8 names but e-mail local parts in exports are ASCII).
#[derive(Debug, Clone, Copy)]
pub struct Name {
    pub display: &'static str,
    pub ascii: &'static str,
}

const fn n(display: &'static str, ascii: &'static str) -> Name {
    Name { display, ascii }
}

/// Names of one culture; `family_first` cultures write the family name first and without a
/// space in the full name (李伟, 田中花子).
#[derive(Debug)]
pub struct Culture {
    pub first: &'static [Name],
    pub last: &'static [Name],
    pub family_first: bool,
    /// BCP-47-ish locale used for `locale` / `preferred_language` fields.
    pub locale: &'static str,
    pub timezone: &'static str,
    pub country: &'static str,
    pub cities: &'static [&'static str],
    /// Relative weight among cultures.
    pub weight: u32,
}

pub const CULTURES: &[Culture] = &[
    Culture {
        first: &[
            n("James", "james"),
            n("Mary", "mary"),
            n("Robert", "robert"),
            n("Patricia", "patricia"),
            n("Michael", "michael"),
            n("Jennifer", "jennifer"),
            n("David", "david"),
            n("Elizabeth", "elizabeth"),
            n("Chloë", "chloe"),
            n("Zoë", "zoe"),
        ],
        last: &[
            n("Smith", "smith"),
            n("Johnson", "johnson"),
            n("Williams", "williams"),
            n("Brown", "brown"),
            n("O'Connor", "oconnor"),
            n("Taylor", "taylor"),
            n("Anderson", "anderson"),
            n("Thompson", "thompson"),
        ],
        family_first: false,
        locale: "en",
        timezone: "America/New_York",
        country: "US",
        cities: &["New York", "Chicago", "Seattle", "Austin"],
        weight: 40,
    },
    Culture {
        first: &[
            n("Jürgen", "juergen"),
            n("Björn", "bjoern"),
            n("Lena", "lena"),
            n("Günther", "guenther"),
            n("Käthe", "kaethe"),
            n("Uwe", "uwe"),
        ],
        last: &[
            n("Müller", "mueller"),
            n("Schröder", "schroeder"),
            n("Weiß", "weiss"),
            n("Groß", "gross"),
            n("Krüger", "krueger"),
            n("Schmidt", "schmidt"),
        ],
        family_first: false,
        locale: "de",
        timezone: "Europe/Berlin",
        country: "DE",
        cities: &["Berlin", "München", "Köln", "Düsseldorf"],
        weight: 12,
    },
    Culture {
        first: &[
            n("Amélie", "amelie"),
            n("Françoise", "francoise"),
            n("Jérôme", "jerome"),
            n("Hélène", "helene"),
            n("Loïc", "loic"),
        ],
        last: &[
            n("Lefèvre", "lefevre"),
            n("Dubois", "dubois"),
            n("Girard", "girard"),
            n("Bérénger", "berenger"),
            n("Garçon", "garcon"),
        ],
        family_first: false,
        locale: "fr",
        timezone: "Europe/Paris",
        country: "FR",
        cities: &["Paris", "Lyon", "Orléans", "Besançon"],
        weight: 8,
    },
    Culture {
        first: &[
            n("José", "jose"),
            n("María", "maria"),
            n("Iñaki", "inaki"),
            n("Lucía", "lucia"),
            n("Sebastián", "sebastian"),
        ],
        last: &[
            n("García", "garcia"),
            n("Núñez", "nunez"),
            n("Peña", "pena"),
            n("Martínez", "martinez"),
            n("Ibáñez", "ibanez"),
        ],
        family_first: false,
        locale: "es",
        timezone: "Europe/Madrid",
        country: "ES",
        cities: &["Madrid", "Córdoba", "Málaga", "Bilbao"],
        weight: 8,
    },
    Culture {
        first: &[
            n("Øyvind", "oyvind"),
            n("Åsa", "asa"),
            n("Sigríður", "sigridur"),
            n("Søren", "soren"),
            n("Märta", "marta"),
        ],
        last: &[
            n("Ólafsdóttir", "olafsdottir"),
            n("Sørensen", "sorensen"),
            n("Åberg", "aberg"),
            n("Lindström", "lindstrom"),
            n("Hæstad", "haestad"),
        ],
        family_first: false,
        locale: "sv",
        timezone: "Europe/Stockholm",
        country: "SE",
        cities: &["Stockholm", "Göteborg", "Malmö", "Västerås"],
        weight: 5,
    },
    Culture {
        first: &[
            n("Łukasz", "lukasz"),
            n("Zofia", "zofia"),
            n("Wojciech", "wojciech"),
            n("Małgorzata", "malgorzata"),
        ],
        last: &[
            n("Wiśniewski", "wisniewski"),
            n("Kowalczyk", "kowalczyk"),
            n("Woźniak", "wozniak"),
            n("Dąbrowska", "dabrowska"),
        ],
        family_first: false,
        locale: "pl",
        timezone: "Europe/Warsaw",
        country: "PL",
        cities: &["Kraków", "Łódź", "Gdańsk", "Poznań"],
        weight: 5,
    },
    Culture {
        first: &[
            n("伟", "wei"),
            n("芳", "fang"),
            n("娜", "na"),
            n("强", "qiang"),
            n("静", "jing"),
        ],
        last: &[
            n("李", "li"),
            n("王", "wang"),
            n("张", "zhang"),
            n("刘", "liu"),
            n("陈", "chen"),
        ],
        family_first: true,
        locale: "zh-CN",
        timezone: "Asia/Shanghai",
        country: "CN",
        cities: &["北京", "上海", "深圳", "杭州"],
        weight: 10,
    },
    Culture {
        first: &[
            n("花子", "hanako"),
            n("太郎", "taro"),
            n("さくら", "sakura"),
            n("健", "ken"),
        ],
        last: &[
            n("田中", "tanaka"),
            n("鈴木", "suzuki"),
            n("佐藤", "sato"),
            n("高橋", "takahashi"),
        ],
        family_first: true,
        locale: "ja",
        timezone: "Asia/Tokyo",
        country: "JP",
        cities: &["東京", "大阪", "京都", "札幌"],
        weight: 6,
    },
    Culture {
        first: &[
            n("Андрей", "andrey"),
            n("Ольга", "olga"),
            n("Дмитрий", "dmitriy"),
            n("Наталья", "natalya"),
        ],
        last: &[
            n("Иванов", "ivanov"),
            n("Смирнова", "smirnova"),
            n("Кузнецов", "kuznetsov"),
            n("Попова", "popova"),
        ],
        family_first: false,
        locale: "ru",
        timezone: "Europe/Moscow",
        country: "RU",
        cities: &["Москва", "Казань", "Новосибирск"],
        weight: 6,
    },
];

/// Reserved example domains (RFC 2606/6761) so generated addresses can never reach anyone.
pub const EMAIL_DOMAINS: &[&str] = &[
    "example.com",
    "example.org",
    "example.net",
    "mail.example",
    "corp.example.com",
    "users.example.org",
];

/// One entry of the role/group pool: an Auth0-style role name, an Okta-style group name,
/// a description, and how often it is picked relative to the others.
#[derive(Debug)]
pub struct PoolEntry {
    pub role: &'static str,
    pub group: &'static str,
    pub description: &'static str,
    pub weight: u32,
}

const fn p(
    role: &'static str,
    group: &'static str,
    description: &'static str,
    weight: u32,
) -> PoolEntry {
    PoolEntry {
        role,
        group,
        description,
        weight,
    }
}

/// The ~20 roles (Auth0, Firebase custom claims) or groups (Okta) users are spread over.
/// Skewed weights: a few roles hold most users, like real tenants.
pub const POOL: &[PoolEntry] = &[
    p("viewer", "Everyone Staff", "Read-only access", 30),
    p("editor", "Editors", "Create and edit content", 14),
    p("admin", "Administrators", "Full administrative access", 3),
    p(
        "billing",
        "Billing",
        "Manage invoices and payment methods",
        5,
    ),
    p(
        "support",
        "Customer Support",
        "Answer tickets and view customer data",
        6,
    ),
    p("auditor", "Auditors", "Read audit logs", 2),
    p(
        "developer",
        "Engineering",
        "Deploy and manage applications",
        9,
    ),
    p("ops", "Operations", "Operate production systems", 4),
    p("sales", "Sales", "Manage leads and opportunities", 6),
    p("marketing", "Marketing", "Manage campaigns", 5),
    p("hr", "Human Resources", "Manage employee records", 2),
    p("finance", "Finance", "Approve expenses and budgets", 3),
    p("legal", "Legal", "Review contracts", 1),
    p("security", "Security", "Manage security settings", 2),
    p("analyst", "Analytics", "Build reports and dashboards", 5),
    p(
        "manager",
        "Managers",
        "Approve requests from direct reports",
        4,
    ),
    p(
        "contractor",
        "Contractors",
        "Time-limited project access",
        3,
    ),
    p("intern", "Interns", "Limited project access", 2),
    p("partner", "Partners", "Partner portal access", 3),
    p(
        "beta-tester",
        "Beta Testers",
        "Early access to new features",
        4,
    ),
];

/// Job titles for Okta profiles and metadata.
pub const TITLES: &[&str] = &[
    "Software Engineer",
    "Account Executive",
    "Product Manager",
    "Support Specialist",
    "Data Analyst",
    "Designer",
    "Director of Operations",
    "Recruiter",
];

pub const PLANS: &[&str] = &["free", "starter", "pro", "enterprise"];
