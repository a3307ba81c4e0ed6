"""Word lists for the demo corpus's lyrics: one theme per musical style, per language.

The themes overlap on purpose (a word can belong to two styles, and every song also draws
from a shared pool), so lyrics carry some style signal without giving the style away.
Bangla words are written in Bengali script with their vowel signs, virama and conjuncts;
Banglish is the same vocabulary as commonly romanised.
"""

from __future__ import annotations

ENGLISH: dict[str, list[str]] = {
    "common": [
        "love", "heart", "night", "day", "time", "home", "light", "dream", "road", "world",
        "sky", "rain", "eyes", "hands", "song", "life", "soul", "alone", "together", "forever",
        "again", "you", "me", "my", "your", "we", "never", "always", "tonight", "remember",
    ],
    "ambient": [
        "ocean", "silence", "stars", "drift", "breathe", "slow", "moon", "float", "clouds",
        "still", "quiet", "mist", "echo", "horizon", "sleep", "glow", "tide", "space", "whisper",
        "calm", "night", "dream",
    ],
    "rock": [
        "fire", "scream", "run", "rebel", "highway", "wild", "burn", "thunder", "fight", "break",
        "loud", "chains", "storm", "blood", "free", "rage", "steel", "walls", "fall", "road",
    ],
    "folk": [
        "river", "boat", "village", "field", "mother", "soil", "boatman", "harvest", "green",
        "path", "flute", "dust", "sun", "tree", "bird", "wind", "earth", "rain", "song", "home",
    ],
    "electronic": [
        "dance", "lights", "city", "neon", "move", "beat", "club", "pulse", "body", "electric",
        "shine", "speed", "signal", "machine", "floor", "feel", "high", "bass", "glow", "tonight",
    ],
}

BANGLA: dict[str, list[str]] = {
    "common": [
        "ভালোবাসা", "মন", "হৃদয়", "রাত", "দিন", "সময়", "ঘর", "আলো", "স্বপ্ন", "পথ",
        "পৃথিবী", "আকাশ", "বৃষ্টি", "চোখ", "হাত", "গান", "জীবন", "প্রাণ", "একা", "আবার",
        "চিরকাল", "তুমি", "আমি", "আমার", "তোমার", "আমরা", "কখনো", "সবসময়", "মনে", "ভালোবাসায়",
    ],
    "ambient": [
        "সাগর", "নীরবতা", "তারা", "চাঁদ", "ভেসে", "শ্বাস", "ধীরে", "মেঘ", "শান্ত", "কুয়াশা",
        "প্রতিধ্বনি", "দিগন্ত", "ঘুম", "জ্যোৎস্না", "ঢেউ", "শূন্য", "নিঝুম", "স্তব্ধ", "নিশি",
        "রাত", "স্বপ্ন",
    ],
    "rock": [
        "আগুন", "চিৎকার", "দৌড়", "বিদ্রোহ", "রাস্তা", "বন্য", "পুড়ে", "বজ্র", "লড়াই", "ভাঙো",
        "শিকল", "ঝড়", "রক্ত", "মুক্ত", "ক্রোধ", "ইস্পাত", "দেয়াল", "প্রতিবাদ", "স্বাধীনতা", "গর্জন",
    ],
    "folk": [
        "নদী", "নৌকা", "গ্রাম", "মাঠ", "মা", "মাটি", "মাঝি", "ধান", "সবুজ", "বাঁশি", "ধুলো",
        "সূর্য", "গাছ", "পাখি", "বাতাস", "বাউল", "একতারা", "কাশফুল", "পদ্মা", "বৃষ্টি", "গান",
    ],
    "electronic": [
        "নাচ", "আলো", "শহর", "নিয়ন", "চলো", "তাল", "ছন্দ", "শরীর", "বিদ্যুৎ", "ঝলমল", "গতি",
        "সংকেত", "যন্ত্র", "উল্লাস", "অনুভব", "উড়ে", "নেশা", "রং", "ঝংকার", "রাত",
    ],
}

BANGLISH: dict[str, list[str]] = {
    "common": [
        "bhalobasha", "mon", "hridoy", "raat", "din", "shomoy", "ghor", "alo", "shopno", "poth",
        "prithibi", "akash", "brishti", "chokh", "haat", "gaan", "jibon", "pran", "eka", "abar",
        "tumi", "ami", "amar", "tomar", "amra", "kokhono", "mone",
    ],
    "ambient": [
        "shagor", "nirobota", "tara", "chand", "bheshe", "dhire", "megh", "shanto", "kuasha",
        "digonto", "ghum", "jochhna", "dheu", "shunno", "nishi", "raat",
    ],
    "rock": [
        "agun", "chitkar", "dour", "bidroho", "rasta", "bonno", "pure", "bojro", "lorai", "bhango",
        "shikol", "jhor", "rokto", "mukto", "shadhinota", "gorjon",
    ],
    "folk": [
        "nodi", "nouka", "gram", "maath", "ma", "mati", "majhi", "dhan", "shobuj", "bashi",
        "dhulo", "shurjo", "gachh", "pakhi", "batash", "baul", "ektara", "padma", "gaan",
    ],
    "electronic": [
        "nach", "alo", "shohor", "neon", "cholo", "taal", "chhondo", "shorir", "biddut",
        "jholmol", "goti", "jontro", "ullash", "nesha", "rong", "raat",
    ],
}

VOCABULARIES: dict[str, dict[str, list[str]]] = {
    "english": ENGLISH,
    "bangla": BANGLA,
    "banglish": BANGLISH,
}

ARTIST_WORDS: list[str] = [
    "Night", "River", "Neon", "Padma", "Echo", "Dust", "Signal", "Monsoon", "Kuasha", "Baul",
    "Highway", "Tide", "Shohor", "Ektara", "Pulse", "Storm", "Lantern", "Meghdoot",
]
