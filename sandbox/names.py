"""Word lists the generator draws names from: people, schools, subjects, assignments."""

FIRST_NAMES = (
    "Aaliyah", "Aiden", "Amara", "Andre", "Ava", "Benjamin", "Brianna", "Caleb", "Camila",
    "Carlos", "Chloe", "Daniel", "Destiny", "Diego", "Elena", "Elijah", "Emma", "Ethan", "Fatima",
    "Gabriel", "Grace", "Hannah", "Hiroshi", "Isabella", "Isaiah", "Jackson", "Jada", "Jamal",
    "Jasmine", "Javier", "Kai", "Keisha", "Liam", "Lucas", "Lucia", "Maya", "Mason", "Mateo",
    "Mia", "Mohammed", "Naomi", "Noah", "Olivia", "Omar", "Priya", "Quinn", "Rafael", "Rosa",
    "Ryan", "Sofia", "Sophia", "Tariq", "Theo", "Valentina", "Wei", "Xavier", "Yara", "Yusuf",
    "Zoe", "Zion",
)  # fmt: skip

LAST_NAMES = (
    "Adams", "Ahmed", "Alvarez", "Anderson", "Baker", "Bui", "Campbell", "Chen", "Clark", "Cruz",
    "Davis", "Diaz", "Edwards", "Evans", "Flores", "Garcia", "Gomez", "Green", "Hall", "Harris",
    "Hernandez", "Hill", "Ibrahim", "Jackson", "Johnson", "Kim", "King", "Kowalski", "Lee",
    "Lewis", "Lopez", "Martin", "Martinez", "Miller", "Moore", "Nguyen", "Okafor", "Ortiz",
    "Patel", "Perez", "Ramirez", "Reyes", "Rivera", "Roberts", "Robinson", "Sanchez", "Scott",
    "Singh", "Smith", "Taylor", "Thomas", "Thompson", "Torres", "Tran", "Walker", "White",
    "Williams", "Wilson", "Wright", "Young",
)  # fmt: skip

SCHOOL_STEMS = (
    "Lincoln", "Washington", "Riverside", "Oak Grove", "Maple Ridge", "Cedar Park", "Jefferson",
    "Lakeview", "Hillcrest", "Roosevelt", "Pine Valley", "Franklin", "Sunset", "Eastwood",
    "Meadowbrook", "Kennedy", "Willow Creek", "Highland", "Madison", "Brookside", "Fairview",
    "Stonebridge", "Garfield", "Silver Lake", "Parkside", "Northgate", "Westfield", "Harbor",
    "Summit", "Valley View",
)  # fmt: skip

SCHOOL_KINDS = ("High School", "Middle School", "Elementary", "Academy")

REGION_NAMES = ("North Region", "South Region", "East Region", "West Region", "Central Region")

# (course name, short code, short topics used in assignment names)
SUBJECTS = (
    ("Algebra I", "ALG1", ("Linear Equations", "Slope", "Functions", "Inequalities", "Exponents")),
    ("Geometry", "GEOM", ("Triangles", "Proofs", "Circles", "Similarity", "Area")),
    ("Biology", "BIO", ("Cells", "Genetics", "Ecology", "Evolution", "Photosynthesis")),
    ("Chemistry", "CHEM", ("Atoms", "Bonding", "Moles", "Reactions", "Gas Laws")),
    ("English 9", "ENG9", ("Poetry", "The Odyssey", "Essays", "Grammar", "Short Stories")),
    ("English 10", "ENG10", ("Macbeth", "Rhetoric", "Vocabulary", "Research", "Novels")),
    ("World History", "WHIS", ("Rome", "Empires", "Revolutions", "WWI", "Trade Routes")),
    ("US History", "USHIS", ("Colonies", "Civil War", "New Deal", "Civil Rights", "Constitution")),
    ("Spanish I", "SPAN1", ("Greetings", "Verbs", "Family", "Food", "Travel")),
    ("Physical Science", "PSCI", ("Motion", "Energy", "Waves", "Forces", "Matter")),
    ("Art I", "ART1", ("Color", "Drawing", "Clay", "Perspective", "Portraits")),
    ("Computer Science", "CS", ("Loops", "Variables", "Arrays", "Recursion", "Debugging")),
)  # fmt: skip

COMMON_GROUPS = ("Homework", "Quizzes", "Tests", "Projects", "Classwork")

# Canvas creates "Assignments" by default; the others are teacher inventions that match no SIS
# category.
UNUSUAL_GROUPS = ("Misc", "Assignments", "Extra Stuff", "Ungraded Practice", "Bonus!!")

# Names longer than 30 characters; the sandbox's GPB limit is counted in characters, not bytes.
LONG_NAME_TEMPLATES = (
    "Unit {n} Test: {topic} and Review",
    "Homework {n} - {topic} Practice Problems",
    "Chapter {n} Reading Questions on {topic}",
    "{topic} Research Project Final Draft",
    "Quiz {n}: {topic} (retake allowed until Friday)",
)

# Long names that carry emoji or right-to-left text (more characters than the limit).
UNICODE_LONG_NAMES = (
    "🧪 Lab {n}: {topic} Observations 🔬✨",
    "📚 Reading Log Week {n} — {topic} 📖📖",
    "واجب منزلي {n}: الكسور والأعداد العشرية",
    "מבחן יחידה {n}: משוואות ליניאריות ואי-שוויונים",
    "تقرير المشروع {n} عن {topic} والمراجعة",
)

# Short names with emoji or right-to-left text: more than 30 bytes but at most 30 characters.
UNICODE_SHORT_NAMES = (
    "Quiz {n} 🎉🎉🎉🎉🎉🎉",
    "واجب منزلي رقم {n}",
    "שיעורי בית מספר {n} 📚",
    "Ensayo {n}: Análisis ✍️📖🎯",
)

CORRUPT_UNICODE_NAMES = (
    "🔥🔥 Über-Quiz {n} ✅ — ¿listo? 🚀",
    "مراجعة الوحدة {n} 📐",
    "‏עבודה {n}‏ 🧮",
    "Test {n} \u202eesrever\u202c 🙃",
)
