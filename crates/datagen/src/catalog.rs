//! The fixed vocabulary of the generated catalogue: brands as suppliers spell
//! them, suppliers with their (sometimes dirty) contact metadata, warehouses,
//! categories and the words product names are made of.

/// A brand and the spellings suppliers send for it. Spellings that differ only
/// in case or spacing are one brand after migration 003; the weight is how
/// often the brand appears among products.
pub struct Brand {
    /// Spellings, the first being the most common.
    pub spellings: &'static [&'static str],
    /// Relative frequency.
    pub weight: u32,
}

/// 22 brands as suppliers spell them. The dirt is deliberate:
/// case and spacing variants; "Black & Decker" / "Black+Decker" and
/// "A&B Tools" / "A-B Tools" derive the same code; Cyrillic, Greek and CJK
/// names derive no Latin code at all.
pub const BRANDS: &[Brand] = &[
    Brand {
        spellings: &["Bosch", "BOSCH", "bosch ", " Bosch"],
        weight: 12,
    },
    Brand {
        spellings: &["Makita", "MAKITA", "makita"],
        weight: 10,
    },
    Brand {
        spellings: &["DeWalt", "DEWALT", "Dewalt  "],
        weight: 10,
    },
    Brand {
        spellings: &["Stanley", "STANLEY"],
        weight: 8,
    },
    Brand {
        spellings: &["Black & Decker", "Black  & Decker", "BLACK & DECKER"],
        weight: 6,
    },
    Brand {
        spellings: &["Black+Decker"],
        weight: 3,
    },
    Brand {
        spellings: &["3M", "3m"],
        weight: 7,
    },
    Brand {
        spellings: &["Karcher", "KARCHER"],
        weight: 4,
    },
    Brand {
        spellings: &["Würth", "WÜRTH", "würth"],
        weight: 5,
    },
    Brand {
        spellings: &["Hilti", "HILTI"],
        weight: 4,
    },
    Brand {
        spellings: &["Festool"],
        weight: 3,
    },
    Brand {
        spellings: &["Milwaukee", "MILWAUKEE", "Milwaukee "],
        weight: 6,
    },
    Brand {
        spellings: &["Ryobi", "RYOBI"],
        weight: 5,
    },
    Brand {
        spellings: &["A&B Tools", "a&b tools"],
        weight: 3,
    },
    Brand {
        spellings: &["A-B Tools"],
        weight: 2,
    },
    Brand {
        spellings: &["Tork", "TORK"],
        weight: 4,
    },
    Brand {
        spellings: &["Lasher", "LASHER", "Lasher Tools"],
        weight: 4,
    },
    Brand {
        spellings: &["Eureka"],
        weight: 3,
    },
    Brand {
        spellings: &["Электрон", "ЭЛЕКТРОН"],
        weight: 2,
    },
    Brand {
        spellings: &["東芝"],
        weight: 2,
    },
    Brand {
        spellings: &["ΔΕΛΤΑ", "Δέλτα"],
        weight: 1,
    },
    Brand {
        spellings: &["Knipex", "KNIPEX", "knipex"],
        weight: 4,
    },
];

/// A supplier and the contact metadata it came with.
pub struct Supplier {
    /// Trading name.
    pub name: &'static str,
    /// `metadata.email`, as received.
    pub email: Option<&'static str>,
    /// `metadata.phone`, as received.
    pub phone: Option<&'static str>,
    /// `metadata.website`, as received.
    pub website: Option<&'static str>,
    /// `metadata.payment_terms`, when known.
    pub payment_terms: Option<&'static str>,
    /// Still trading with us.
    pub active: bool,
}

const fn supplier(
    name: &'static str,
    email: Option<&'static str>,
    phone: Option<&'static str>,
    website: Option<&'static str>,
    payment_terms: Option<&'static str>,
) -> Supplier {
    Supplier {
        name,
        email,
        phone,
        website,
        payment_terms,
        active: true,
    }
}

/// The seed's 22 suppliers. Some contact values are invalid on purpose
/// (migration 003 must report them, not drop or reject them).
pub const SUPPLIERS: &[Supplier] = &[
    supplier(
        "Acme Industrial Supply",
        Some("orders@acme-industrial.co.za"),
        Some("+27 11 555 0101"),
        Some("https://acme-industrial.co.za"),
        Some("Net 30"),
    ),
    supplier(
        "Bolt & Nut Traders",
        Some("sales@boltnut.co.za"),
        Some("011 555 0102"),
        Some("www.boltnut.co.za"),
        Some("Net 60"),
    ),
    supplier(
        "Cape Hardware Wholesale",
        Some("info@capehardware"),
        Some("+27 21 555 0103"),
        Some("capehardware.co.za"),
        None,
    ),
    supplier(
        "Durban Tool Distributors",
        Some("accounts@dbntools.co.za"),
        Some("TBC"),
        Some("http://dbntools.co.za"),
        Some("COD"),
    ),
    supplier(
        "Eastern Cape Fasteners",
        Some("sales at ecfasteners.co.za"),
        Some("+27 41 555 0105"),
        None,
        Some("Net 45"),
    ),
    supplier(
        "Free State Building Supplies",
        Some("fsbs@mweb.co.za"),
        Some("(051) 555-0106"),
        Some("not available"),
        None,
    ),
    supplier(
        "Gauteng Power Tools",
        Some("orders@gpt.co.za"),
        Some("+27 12 555 0107"),
        Some("https://www.gpt.co.za/shop"),
        Some("Net 30"),
    ),
    supplier(
        "Highveld Plumbing Co",
        None,
        Some("555"),
        None,
        Some("EOM + 30"),
    ),
    supplier(
        "Imported Tools SA",
        Some("import@toolsa.com"),
        Some("+1 (212) 555-0109"),
        Some("https://toolsa.com"),
        Some("Prepaid"),
    ),
    supplier(
        "Joburg Electrical",
        Some("n/a"),
        Some("+27 11 555 0110"),
        Some("joburg-electrical.co.za"),
        None,
    ),
    supplier(
        "Karoo Agricultural",
        Some("karoo.agri@gmail.com"),
        Some("+27 53 555 0111"),
        Some("http://"),
        Some("Net 30"),
    ),
    supplier(
        "Limpopo Timber",
        Some("sales@limpopotimber.co.za"),
        None,
        Some("limpopotimber.co.za"),
        Some("Net 14"),
    ),
    supplier(
        "Mpumalanga Mining Supplies",
        Some("MMS@Mining-Supplies.CO.ZA"),
        Some("+27 13 555 0113"),
        Some("https://mining-supplies.co.za"),
        Some("Net 60"),
    ),
    supplier(
        "Natal Safety Gear",
        Some("safety@natalsafety.co.za"),
        Some("031-555-0114"),
        Some("www.natalsafety.co.za"),
        None,
    ),
    supplier(
        "Orange River Paints",
        Some("orders@orpaints..co.za"),
        Some("+27 54 555 0115"),
        Some("orpaints.co.za"),
        Some("Net 30"),
    ),
    supplier(
        "Pretoria Steel Merchants",
        Some("steel@psm.co.za"),
        Some("+27 12 555 0116"),
        Some("psm.co.za"),
        Some("Net 90"),
    ),
    supplier(
        "Quality Abrasives",
        Some("qa@abrasives.co.za"),
        Some("phone: ask reception"),
        Some("abrasives.co.za"),
        None,
    ),
    supplier(
        "Rustenburg Welding",
        Some("weld@rustweld.co.za"),
        Some("+27 14 555 0118"),
        Some("ftp://rustweld.co.za"),
        Some("Net 30"),
    ),
    supplier(
        "Soweto Builders Depot",
        Some("depot@sbd.co.za"),
        Some("+27 11 555 0119"),
        None,
        Some("COD"),
    ),
    supplier(
        "Tshwane Cleaning Supplies",
        Some("hello@tshwaneclean.co.za"),
        Some("012 555 0120"),
        Some("tshwaneclean.co.za"),
        Some("Net 30"),
    ),
    Supplier {
        active: false,
        ..supplier(
            "Umhlanga Marine Hardware",
            Some("marine@umh.co.za"),
            Some("+27 31 555 0121"),
            Some("umh.co.za"),
            Some("Net 30"),
        )
    },
    Supplier {
        active: false,
        ..supplier("Vaal Industrial (closed)", None, None, None, None)
    },
];

/// Warehouses in the order they are created: (code, name).
pub const WAREHOUSES: &[(&str, &str)] = &[
    ("JHB-01", "Johannesburg Central"),
    ("CPT-01", "Cape Town Montague Gardens"),
    ("DBN-01", "Durban Prospecton"),
    ("PLZ-01", "Gqeberha Deal Party"),
    ("BFN-01", "Bloemfontein Hamilton"),
];

/// Top-level categories and their children.
pub const CATEGORIES: &[(&str, &[&str])] = &[
    ("Power Tools", &["Drills", "Saws", "Grinders", "Sanders"]),
    (
        "Hand Tools",
        &["Spanners", "Pliers", "Screwdrivers", "Hammers"],
    ),
    ("Fasteners", &["Bolts", "Screws", "Anchors"]),
    ("Safety", &["Gloves", "Eyewear", "Footwear"]),
    ("Plumbing", &["Pipes", "Fittings", "Valves"]),
    ("Electrical", &["Cable", "Switches", "Lighting"]),
    ("Cleaning", &["Chemicals", "Paper", "Equipment"]),
    ("Paint", &["Interior", "Exterior"]),
];

/// Words product names are made of.
pub const ADJECTIVES: &[&str] = &[
    "Heavy Duty",
    "Compact",
    "Cordless",
    "Industrial",
    "Professional",
    "Stainless",
    "Galvanised",
    "Insulated",
    "Precision",
    "Magnetic",
    "Adjustable",
    "High Visibility",
];
/// Nouns of product names.
pub const NOUNS: &[&str] = &[
    "Drill",
    "Angle Grinder",
    "Circular Saw",
    "Spanner Set",
    "Combination Pliers",
    "Screwdriver Set",
    "Claw Hammer",
    "Hex Bolt",
    "Wood Screw",
    "Wall Anchor",
    "Work Gloves",
    "Safety Glasses",
    "Safety Boots",
    "PVC Pipe",
    "Elbow Fitting",
    "Ball Valve",
    "Extension Cable",
    "Light Switch",
    "LED Floodlight",
    "Degreaser",
    "Paper Towel",
    "Pressure Washer",
    "Wall Paint",
    "Roof Paint",
];
/// Size or rating suffixes.
pub const SIZES: &[&str] = &[
    "18V", "230mm", "M8", "M10", "50mm", "1L", "5L", "20L", "Size 9", "10m", "2-Pack", "600W",
];
/// Units of measure with their relative frequency.
pub const UNITS: &[(&str, u32)] = &[("EA", 85), ("KG", 6), ("M", 5), ("L", 4)];
