#!/usr/bin/env python3
"""Generate renraku's person-name table (issue 8): `python3 gen_names.py > names.tsv`.

Standard library only. Each row is a name as a person would enter it in `first_name` or
`last_name`, after renraku's normalization (trim, NFC), and whether the name rule should accept it.

Columns: `name` (raw UTF-8; invisible characters are really there, and a control character is
written as \\u{XXXX}), `codepoints` (every code point as U+XXXX, space-separated: the exact input,
whatever an editor does to the first column), `script`, `expected` (accept/reject), `why`.
"""

import sys
import unicodedata

from tsv import escape

# (name, script, expected, why)
ROWS = [
    # --- Latin with diacritics and punctuation that names really use
    ("Zoë", "Latin", "accept", "diaeresis"),
    ("Zoe\u0308", "Latin", "accept", "NFD input: NFC makes it Zoë"),
    ("François", "Latin", "accept", "cedilla"),
    ("Søren", "Latin", "accept", "Danish ø"),
    ("Łukasz", "Latin", "accept", "Polish Ł"),
    ("Zbigniew Brzęczyszczykiewicz", "Latin", "accept", "Polish ogonek, two words"),
    ("Dvořák", "Latin", "accept", "Czech caron"),
    ("Řehoř", "Latin", "accept", "Czech Ř"),
    ("Þórður", "Latin", "accept", "Icelandic thorn and eth"),
    ("Björk Guðmundsdóttir", "Latin", "accept", "Icelandic"),
    ("Ægir", "Latin", "accept", "ligature letter Æ"),
    ("Ðorđe", "Latin", "accept", "Serbian Latin Đ"),
    ("Şükrü", "Latin", "accept", "Turkish ş"),
    ("Işıl", "Latin", "accept", "Turkish dotless ı"),
    ("İlkay", "Latin", "accept", "Turkish dotted İ"),
    ("Ștefan", "Latin", "accept", "Romanian comma below"),
    ("Ċensu", "Latin", "accept", "Maltese Ċ"),
    ("Siôn", "Latin", "accept", "Welsh circumflex"),
    ("Ó Súilleabháin", "Latin", "accept", "Irish fada, space"),
    ("José María", "Latin", "accept", "Spanish accents"),
    ("Núñez", "Latin", "accept", "Spanish ñ"),
    ("Müller-Lüdenscheidt", "Latin", "accept", "ASCII hyphen"),
    ("Zoë-Marie", "Latin", "accept", "hyphenated given name"),
    ("Jean-Luc", "Latin", "accept", "hyphen"),
    ("Anne\u2010Marie", "Latin", "accept", "U+2010 HYPHEN"),
    ("Anne\u2011Marie", "Latin", "accept", "U+2011 NON-BREAKING HYPHEN"),
    ("O'Brien", "Latin", "accept", "ASCII apostrophe"),
    ("O\u2019Brien", "Latin", "accept", "U+2019 right single quotation mark as apostrophe"),
    ("D'Angelo", "Latin", "accept", "apostrophe"),
    ("N\u2019Dour", "Latin", "accept", "U+2019 apostrophe"),
    ("Kaʻiulani", "Latin", "accept", "Hawaiian ʻokina U+02BB (a letter, Lm)"),
    ("J. R.", "Latin", "accept", "initials with periods"),
    ("St. John", "Latin", "accept", "abbreviation"),
    ("de la Cruz", "Latin", "accept", "particles"),
    ("van der Berg", "Latin", "accept", "particles"),
    ("Jean\u00a0Paul", "Latin", "accept", "no-break space between names"),
    ("Ng", "Latin", "accept", "short surname"),
    ("A", "Latin", "accept", "single letter"),
    ("Ọlábísí", "Latin", "accept", "Yoruba dot below and tones"),
    ("Gal·la", "Latin", "accept", "Catalan punt volat U+00B7"),
    ("Marcel·lí", "Latin", "accept", "Catalan punt volat U+00B7"),
    ("Gaŀla", "Latin", "accept", "Catalan ŀ U+0140 (a letter)"),
    # --- Vietnamese
    ("Nguyễn", "Latin (Vietnamese)", "accept", "two diacritics on one vowel"),
    ("Nguye\u0302\u0303n", "Latin (Vietnamese)", "accept", "NFD: NFC composes ễ"),
    ("Trần Hưng Đạo", "Latin (Vietnamese)", "accept", "horn, dot below, Đ"),
    ("Nguyễn Thị Minh Khai", "Latin (Vietnamese)", "accept", "full name"),
    # --- Greek
    ("Νίκος", "Greek", "accept", "tonos"),
    ("Οδυσσέας", "Greek", "accept", "final sigma ς"),
    ("ΟΔΥΣΣΕΑΣ", "Greek", "accept", "capitals"),
    ("Σωκράτης", "Greek", "accept", "final sigma"),
    # --- Cyrillic
    ("Анна", "Cyrillic", "accept", "Russian"),
    ("Пётр Ильич Чайковский", "Cyrillic", "accept", "ё, three words"),
    ("Сергій", "Cyrillic", "accept", "Ukrainian і"),
    ("Мар'яна", "Cyrillic", "accept", "Ukrainian apostrophe (ASCII)"),
    ("Мар\u2019яна", "Cyrillic", "accept", "Ukrainian apostrophe U+2019"),
    ("Мар\u02bcяна", "Cyrillic", "accept", "Ukrainian apostrophe U+02BC (a letter, Lm)"),
    ("Ђорђе", "Cyrillic", "accept", "Serbian"),
    # --- Arabic script
    ("محمد", "Arabic", "accept", "Arabic"),
    ("مُحَمَّد", "Arabic", "accept", "with harakat (combining marks)"),
    ("عبد الله", "Arabic", "accept", "two words"),
    ("عمران خان", "Arabic (Urdu)", "accept", "Urdu"),
    ("علی\u200cرضا", "Arabic (Persian)", "accept", "ZWNJ U+200C inside a Persian name"),
    ("نامه\u200cای", "Arabic (Persian)", "accept", "ZWNJ between Arabic letters"),
    # --- Hebrew
    ("דוד", "Hebrew", "accept", "Hebrew"),
    ("ג\u05f3ורג\u05f3", "Hebrew", "accept", "geresh U+05F3 (George)"),
    ("שָׁלוֹם", "Hebrew", "accept", "niqqud (combining marks)"),
    ("בן\u05beגוריון", "Hebrew", "accept", "maqaf U+05BE, the Hebrew hyphen"),
    # --- Indic and other South/South-East Asian scripts
    ("अमिताभ बच्चन", "Devanagari", "accept", "virama, matras"),
    ("प्रियंका", "Devanagari", "accept", "conjunct, anusvara"),
    ("রবীন্দ্রনাথ ঠাকুর", "Bengali", "accept", "Bengali"),
    ("சுப்பிரமணியன்", "Tamil", "accept", "Tamil pulli"),
    ("వెంకటేశ్వర", "Telugu", "accept", "Telugu"),
    ("ಕುವೆಂಪು", "Kannada", "accept", "Kannada"),
    ("മോഹൻലാൽ", "Malayalam", "accept", "chillu letters"),
    ("નરેન્દ્ર", "Gujarati", "accept", "Gujarati"),
    ("ਗੁਰਪ੍ਰੀਤ", "Gurmukhi", "accept", "Gurmukhi"),
    ("ශ්\u200dරී", "Sinhala", "accept", "ZWJ U+200D forms the Sinhala conjunct (Sri)"),
    ("කුමාරි", "Sinhala", "accept", "Sinhala"),
    ("สมชาย", "Thai", "accept", "Thai"),
    ("ประยุทธ์", "Thai", "accept", "Thai with thanthakhat"),
    ("ສົມພອນ", "Lao", "accept", "Lao"),
    ("བསྟན་འཛིན་རྒྱ་མཚོ", "Tibetan", "accept", "tsheg U+0F0B between syllables"),
    ("བཀྲ་ཤིས་", "Tibetan", "accept", "trailing tsheg U+0F0B is normal spelling"),
    ("សុខា", "Khmer", "accept", "Khmer"),
    ("အောင်ဆန်းစုကြည်", "Myanmar", "accept", "Myanmar asat and medials"),
    # --- East Asian
    ("李小龙", "Han", "accept", "Chinese"),
    ("玛丽·居里", "Han", "accept", "middle dot U+00B7 between transliterated names"),
    ("王", "Han", "accept", "single character surname"),
    ("山田太郎", "Han (Japanese)", "accept", "Japanese kanji"),
    ("やまだ", "Hiragana", "accept", "hiragana"),
    ("ジョン・スミス", "Katakana", "accept", "katakana middle dot U+30FB"),
    ("マリー", "Katakana", "accept", "prolonged sound mark U+30FC (Lm)"),
    ("ジョン゠スミス", "Katakana", "accept", "katakana-hiragana double hyphen U+30A0"),
    ("김민준", "Hangul", "accept", "Korean"),
    ("남궁 민수", "Hangul", "accept", "two-syllable surname, space"),
    ("이서연", "Hangul", "accept", "Korean"),
    # --- Other scripts
    ("ნინო", "Georgian", "accept", "Georgian"),
    ("გიორგი", "Georgian", "accept", "Georgian"),
    ("Արամ", "Armenian", "accept", "Armenian"),
    ("Հովհաննես", "Armenian", "accept", "Armenian"),
    ("አበበ ቢቂላ", "Ethiopic", "accept", "Amharic"),
    ("ኃይለ ሥላሴ", "Ethiopic", "accept", "Amharic"),
    ("ᏌᏊ", "Cherokee", "accept", "Cherokee"),
    # --- Invisible letters and fillers
    ("\u3164", "Hangul", "reject", "HANGUL FILLER alone: an invisible 'letter' (Lo)"),
    ("Kim\u3164", "Hangul", "reject", "HANGUL FILLER appended"),
    ("\u3164\u3164", "Hangul", "reject", "HANGUL FILLERs only"),
    ("\uffa0", "Hangul", "reject", "HALFWIDTH HANGUL FILLER alone"),
    ("Ada\uffa0", "Hangul", "reject", "HALFWIDTH HANGUL FILLER in a name"),
    ("\u115f", "Hangul", "reject", "HANGUL CHOSEONG FILLER alone"),
    ("\u1160", "Hangul", "reject", "HANGUL JUNGSEONG FILLER alone"),
    ("\u115f\u1160", "Hangul", "reject", "choseong + jungseong fillers: an empty syllable"),
    ("김\u1160", "Hangul", "reject", "JUNGSEONG FILLER after a syllable"),
    ("Ada\ufe0f", "Common", "reject", "variation selector VS16"),
    ("Ada\ufe00", "Common", "reject", "variation selector VS1"),
    ("Ada\U000e0100", "Common", "reject", "variation selector VS17"),
    ("Ada\u034f", "Inherited", "reject", "COMBINING GRAPHEME JOINER"),
    ("\u034f", "Inherited", "reject", "COMBINING GRAPHEME JOINER alone"),
    ("\u0301", "Inherited", "reject", "a combining mark alone"),
    ("\u0301\u0308", "Inherited", "reject", "combining marks only"),
    ("\u064b\u064c", "Inherited", "reject", "Arabic harakat only"),
    ("\u0e31", "Thai", "reject", "Thai vowel mark alone"),
    ("\u17b4", "Khmer", "reject", "KHMER VOWEL INHERENT AQ: invisible mark alone"),
    ("a" + "".join(chr(0x0300 + i % 0x70) for i in range(60)), "Latin", "reject",
     "one letter with 60 stacked combining marks (zalgo; UAX #15 stream-safe allows 30)"),
    ("\u2800", "Braille", "reject", "BRAILLE PATTERN BLANK: looks empty"),
    # --- Punctuation only, digits, markup
    (".", "Common", "reject", "a period alone"),
    ("-", "Common", "reject", "a hyphen alone"),
    ("...", "Common", "reject", "periods only"),
    ("'", "Common", "reject", "an apostrophe alone"),
    ("\u2019", "Common", "reject", "U+2019 alone"),
    ("- -", "Common", "reject", "hyphens and a space"),
    ("-'-.", "Common", "reject", "punctuation only"),
    ("\u00b7", "Common", "reject", "middle dot alone"),
    ("\u30fb", "Common", "reject", "katakana middle dot alone"),
    ("R2D2", "Latin", "reject", "digits"),
    ("123", "Common", "reject", "digits only"),
    ("Ada 3", "Latin", "reject", "a digit"),
    ("\u0663", "Arabic", "reject", "an Arabic-Indic digit"),
    ("\u216b", "Common", "reject", "ROMAN NUMERAL TWELVE (Nl, Alphabetic property)"),
    ("<b>", "Common", "reject", "markup"),
    ("a@b", "Latin", "reject", "an at sign"),
    ("a;b", "Latin", "reject", "a semicolon"),
    ("Ada\U0001f600", "Common", "reject", "emoji"),
    ("Ada\u2122", "Common", "reject", "trade mark sign"),
    # --- Bidi and format controls
    ("Ada\u202e", "Common", "reject", "RIGHT-TO-LEFT OVERRIDE at the end"),
    ("\u202eAda", "Common", "reject", "RIGHT-TO-LEFT OVERRIDE at the start"),
    ("Ada\u2066x\u2069", "Common", "reject", "LEFT-TO-RIGHT ISOLATE ... POP DIRECTIONAL ISOLATE"),
    ("\u200fAda", "Common", "reject", "RIGHT-TO-LEFT MARK"),
    ("محمد\u061c", "Arabic", "reject", "ARABIC LETTER MARK"),
    ("\u200dAda", "Latin", "reject", "ZWJ at the start"),
    ("Ada\u200d", "Latin", "reject", "ZWJ at the end"),
    ("A\u200dda", "Latin", "reject", "ZWJ between Latin letters"),
    ("\u200cAda", "Latin", "reject", "ZWNJ at the start"),
    ("Ada\u200c", "Latin", "reject", "ZWNJ at the end"),
    ("A\u200cda", "Latin", "reject", "ZWNJ between Latin letters"),
    ("\u200cعلی", "Arabic (Persian)", "reject", "ZWNJ at the start of a Persian name"),
    ("علی\u200c", "Arabic (Persian)", "reject", "ZWNJ at the end of a Persian name"),
    ("\u200d", "Common", "reject", "ZWJ alone"),
    ("Ada\u200b", "Latin", "reject", "ZERO WIDTH SPACE at the end"),
    ("A\u200bda", "Latin", "reject", "ZERO WIDTH SPACE inside"),
    ("\u200b", "Common", "reject", "ZERO WIDTH SPACE alone"),
    ("Ada\u2060", "Latin", "reject", "WORD JOINER"),
    ("\ufeffAda", "Latin", "reject", "BYTE ORDER MARK / ZWNBSP at the start"),
    ("Ada\u00adx", "Latin", "reject", "SOFT HYPHEN"),
    ("Ada\U000e0041", "Latin", "reject", "TAG LATIN CAPITAL LETTER A"),
    ("Ada\u180e", "Latin", "reject", "MONGOLIAN VOWEL SEPARATOR (format)"),
    ("Ada\u2028Lovelace", "Latin", "reject", "LINE SEPARATOR"),
    ("Ada\tLovelace", "Latin", "reject", "a tab (control character)"),
    ("Ada\u0000", "Latin", "reject", "NUL (control character)"),
]


def main():
    out = sys.stdout
    accept = sum(1 for r in ROWS if r[2] == "accept")
    out.write("# renraku issue 8: person names (first_name, last_name), what the name rule should do\n")
    out.write("# generator: gen_names.py (standard library only); command: python3 gen_names.py > names.tsv\n")
    out.write("# Unicode data of the generating Python: %s\n" % unicodedata.unidata_version)
    out.write("# name: raw UTF-8 as entered (invisible characters are really there; control characters "
              "written as \\u{XXXX}); codepoints: the exact code points, U+XXXX space-separated\n")
    out.write("# expected: accept/reject for the value after renraku's trim + NFC; why: the reason\n")
    out.write("# rows: %d (accept %d, reject %d)\n" % (len(ROWS), accept, len(ROWS) - accept))
    out.write("name\tcodepoints\tscript\texpected\twhy\n")
    seen = set()
    for name, script, expected, why in ROWS:
        assert name not in seen, name
        seen.add(name)
        assert expected in ("accept", "reject")
        codepoints = " ".join("U+%04X" % ord(c) for c in name)
        out.write("%s\t%s\t%s\t%s\t%s\n" % (escape(name), codepoints, script, expected, why))


if __name__ == "__main__":
    main()
