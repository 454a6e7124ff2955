#!/usr/bin/env python3
"""Generate renraku's phone validation corpus (issue 8) from Python `phonenumbers`.

Usage (the version must be the one whose metadata rlibphonenumber embeds):

    pip install phonenumbers==9.0.42
    python3 gen_phone_corpus.py > phones.tsv

The reference is applied exactly as renraku applies its rule:

    number = phonenumbers.parse(input, region)   # region = the default region, or None
    valid  = parse succeeded and phonenumbers.is_valid_number(number)
    e164   = phonenumbers.format_number(number, PhoneNumberFormat.E164) when valid

The rows are deterministic (seeded `random.Random`, sorted regions); only the `# date:` line
of the header changes between runs (set SOURCE_DATE_EPOCH to pin it too).

Output: UTF-8, tab-separated, a `#` header block, then one header row and the data rows with
the columns `input`, `region`, `valid`, `e164`, `category`. In `input`, a backslash is written
`\\\\`, a tab `\\t`, a newline `\\n`, a carriage return `\\r`, any other control character
(general category Cc: U+0000-U+001F, U+007F-U+009F) `\\u{XXXX}` with 4 upper-case hex digits;
everything else is raw UTF-8. `region` is empty for no default region, `e164` is empty
when the number is invalid. `category` names the generator rule that made the row (a row made
by several rules keeps the first); it is information, not part of the reference.
"""

import datetime
import os
import random
import sys
import unicodedata

import phonenumbers
from phonenumbers import PhoneNumberFormat as F
from phonenumbers import PhoneNumberType as T

from tsv import escape

SEED = 8  # issue 8
LIBPHONENUMBER_METADATA = "9.0.42"  # what rlibphonenumber 2.2.15 embeds (its Readme; checked by comparing metadata)

TYPES = [
    ("fixed_line", T.FIXED_LINE),
    ("mobile", T.MOBILE),
    ("toll_free", T.TOLL_FREE),
    ("premium_rate", T.PREMIUM_RATE),
    ("shared_cost", T.SHARED_COST),
    ("voip", T.VOIP),
    ("personal_number", T.PERSONAL_NUMBER),
    ("pager", T.PAGER),
    ("uan", T.UAN),
    ("voicemail", T.VOICEMAIL),
]

# Default regions used as "a region that is not the number's own".
OTHER_REGIONS = ["US", "DE", "GB", "FR", "IN", "BR", "JP", "RU", "CN", "AU",
                 "IT", "ES", "MX", "NG", "ZA", "EG", "AR", "ID", "TR", "KR",
                 "CH", "AT", "NL", "SE", "PL", "CA", "KZ", "SG", "AE", "IL"]

SEPARATORS = [
    ("nbsp", "\u00a0"), ("zwsp", "\u200b"), ("slash", "/"), ("dot", "."),
    ("hyphen", "-"), ("none", ""), ("ideographic_space", "\u3000"),
    ("narrow_nbsp", "\u202f"), ("en_dash", "\u2013"), ("unicode_hyphen", "\u2010"),
    ("minus_sign", "\u2212"), ("soft_hyphen", "\u00ad"), ("word_joiner", "\u2060"),
    ("tilde", "~"), ("double_space", "  "), ("underscore", "_"), ("comma", ","),
    ("pipe", "|"), ("fullwidth_hyphen", "\uff0d"), ("katakana_long_vowel", "\u30fc"),
]

DIGIT_SCRIPTS = [
    ("arabic_indic", 0x0660), ("ext_arabic_indic", 0x06F0), ("fullwidth", 0xFF10),
    ("devanagari", 0x0966), ("bengali", 0x09E6), ("thai", 0x0E50),
    ("math_bold", 0x1D7CE), ("nko", 0x07C0), ("myanmar", 0x1040),
]

KEYPAD = {"2": "ABC", "3": "DEF", "4": "GHI", "5": "JKL", "6": "MNO",
          "7": "PQRS", "8": "TUV", "9": "WXYZ"}

# Hand-written cases: (input, region or None, category).
HANDWRITTEN = [
    # renraku's documented examples (validation.rs)
    ("+49 30 1234567", None, "renraku_doc"),
    ("030 1234567", "DE", "renraku_doc"),
    ("(202) 555-0143", "US", "renraku_doc"),
    ("12", "DE", "renraku_doc"),
    ("12", None, "renraku_doc"),
    ("+49 0", None, "renraku_doc"),
    ("030 1234567", None, "renraku_doc"),
    ("+49 151 12345678", "US", "renraku_doc"),
    ("+49 151 12345678", None, "renraku_doc"),
    ("+39 06 69812345", "DE", "renraku_doc"),
    ("+39 06 69812345", None, "renraku_doc"),
    ("011 49 151 12345678", "US", "renraku_doc"),
    ("011 49 30 1234567", "US", "renraku_doc"),
    ("00 49 30 1234567", "US", "renraku_doc"),
    ("00 49 30 1234567", "FR", "renraku_doc"),
    ("0049 30 1234567", "DE", "renraku_doc"),
    ("0049 30 1234567", None, "renraku_doc"),
    ("(+49) 30 1234567", None, "renraku_doc"),
    ("tel:+49-30-1234567", None, "renraku_doc"),
    ("\uff0b49 30 1234567", None, "renraku_doc"),
    # St Petersburg and the +7 zone
    ("+7 812 123-45-67", None, "st_petersburg"),
    ("+7 812 123-45-67", "US", "st_petersburg"),
    ("+7 812 123-45-67", "RU", "st_petersburg"),
    ("+7 (812) 123-45-67", None, "st_petersburg"),
    ("8 (812) 123-45-67", "RU", "st_petersburg"),
    ("8 812 1234567", "RU", "st_petersburg"),
    ("8 812 1234567", "KZ", "st_petersburg"),
    ("8 812 1234567", None, "st_petersburg"),
    ("812 123 45 67", "RU", "st_petersburg"),
    ("+78121234567", None, "st_petersburg"),
    ("+7 812 123 45 6", None, "st_petersburg"),
    ("+7 812 123 45 678", None, "st_petersburg"),
    ("+7 8121234567", "DE", "st_petersburg"),
    ("+7 727 258 2500", None, "st_petersburg"),  # Almaty, KZ under +7
    ("8 10 7 812 1234567", "RU", "st_petersburg"),
    ("810 49 30 1234567", "RU", "st_petersburg"),
    # prefix-only match
    ("+49 18500123456555", None, "prefix_only"),
    ("+49 18500123456555", "DE", "prefix_only"),
    ("+49 18500123456555", "US", "prefix_only"),
    ("+4918500123456555", None, "prefix_only"),
    ("018500123456555", "DE", "prefix_only"),
    ("+49 1850012345", None, "prefix_only"),
    # vanity numbers
    ("1-800-FLOWERS", "US", "vanity"),
    ("1-800-FLOWERS", None, "vanity"),
    ("+1-800-FLOWERS", None, "vanity"),
    ("+1 800 FLOWERS", "DE", "vanity"),
    ("1-800-flowers", "US", "vanity"),
    ("1-800-GOT-JUNK", "US", "vanity"),
    ("1-800-GOTJUNK", "US", "vanity"),
    ("1-800-MICROSOFT", "US", "vanity"),
    ("1-800-CALL-ATT", "US", "vanity"),
    ("1-800-CALLATT", "US", "vanity"),
    ("800-FLOWERS", "US", "vanity"),
    ("0800 REVERSE", "GB", "vanity"),
    ("0800 REVERSE", "DE", "vanity"),
    ("13 CABS", "AU", "vanity"),
    ("1300 FLOWERS", "AU", "vanity"),
    ("+1 800 356 9377", None, "vanity"),
    ("FLOWERS", "US", "vanity"),
    ("1-800-FLO-WER-S", "US", "vanity"),
    ("+1 (650) 253-00AB", None, "vanity"),
    ("+1 (650) 253-0ABC", None, "vanity"),
    ("+1 (650) 253-ABCD", None, "vanity"),
    ("+1 650 2530000 x123", None, "extension"),
    ("+1 650 2530000 ext. 123", None, "extension"),
    ("+1 650 2530000;ext=123", None, "extension"),
    ("+1 650 2530000 #123", None, "extension"),
    ("+1 650 2530000 ,123", None, "extension"),
    ("650 253 0000 extn 4", "US", "extension"),
    ("tel:+1-650-253-0000;ext=42", None, "extension"),
    ("030 1234567 Durchwahl 12", "DE", "extension"),
    # RFC 3966 with phone-context
    ("tel:030-1234567;phone-context=+49", None, "rfc3966_context"),
    ("tel:030-1234567;phone-context=+49", "US", "rfc3966_context"),
    ("tel:2530000;phone-context=+1-650", None, "rfc3966_context"),
    ("tel:030-1234567;phone-context=example.com", "DE", "rfc3966_context"),
    ("tel:030-1234567;phone-context=example.com", None, "rfc3966_context"),
    ("tel:030-1234567;phone-context=", "DE", "rfc3966_context"),
    ("tel:030-1234567;phone-context=+", "DE", "rfc3966_context"),
    ("tel:030-1234567;phone-context=+49;isub=12", None, "rfc3966_context"),
    ("tel:+49-30-1234567;isub=123", None, "rfc3966_context"),
    ("TEL:+49-30-1234567", None, "rfc3966_context"),
    ("tel:;phone-context=+49", None, "rfc3966_context"),
    ("tel:+49-30-1234567;phone-context=+1", None, "rfc3966_context"),
    ("sip:+49301234567@example.com", None, "rfc3966_context"),
    # control characters, whitespace, length (renraku: 32 characters, no controls)
    ("+49 30 1234567\n", None, "control"),
    ("+49\t30\t1234567", None, "control"),
    ("+49 30\r\n1234567", None, "control"),
    ("+49 30 1234567\u0007", None, "control"),
    ("\u0000+49 30 1234567", None, "control"),
    ("+49 30 1234567\u0085", None, "control"),
    ("+49 30 1234567\u200e", None, "control"),
    ("\u202e+49 30 1234567", None, "control"),
    ("\ufeff+49 30 1234567", None, "control"),
    ("  +49 30 1234567  ", None, "whitespace"),
    ("\u3000+49 30 1234567", None, "whitespace"),
    ("+ 49 30 1234567", None, "whitespace"),
    ("+49 30 1234567 +49 30 1234567", None, "two_numbers"),
    ("+49 30 1234567 / 030 7654321", None, "two_numbers"),
    ("Tel.: +49 30 1234567", None, "prose"),
    ("call me at +49 30 1234567 please", None, "prose"),
    ("+49 30 1234567 (office)", None, "prose"),
    ("++49 30 1234567", None, "plus"),
    ("+\uff0b49 30 1234567", None, "plus"),
    ("+-49 30 1234567", None, "plus"),
    ("49+ 30 1234567", None, "plus"),
    ("+49 30 12+34567", None, "plus"),
    ("+", None, "degenerate"),
    ("", None, "degenerate"),
    ("", "DE", "degenerate"),
    ("-", "DE", "degenerate"),
    ("0", "DE", "degenerate"),
    ("00", "DE", "degenerate"),
    ("+0", None, "degenerate"),
    ("+00", None, "degenerate"),
    ("+1", None, "degenerate"),
    ("+999 123456", None, "degenerate"),
    ("+800 1234 5678", None, "degenerate"),
    ("+80012345678", "US", "degenerate"),
    ("*100#", "DE", "degenerate"),
    ("#31#030 1234567", "DE", "degenerate"),
    ("112", "DE", "short_code"),
    ("911", "US", "short_code"),
    ("110", "DE", "short_code"),
    ("+1 911", None, "short_code"),
    ("1" * 40, "US", "long"),
    ("+49 " + "1" * 30, None, "long"),
    ("+49 30 1234567" + " " * 20, None, "long"),
    # Python phonenumbers (like C++ libphonenumber) refuses input longer than 250 characters
    # (code points in Python); rlibphonenumber 2.2.15 has no such cap.
    ("+49 30 1234567" + " " * 236, None, "long_250"),           # 250: parsed
    ("+49 30 1234567" + " " * 237, None, "long_250"),           # 251: too long
    ("+49 30 1234567" + "-" * 237, None, "long_250"),
    ("030 1234567" + " " * 240, "DE", "long_250"),              # 251, national
    ("\uff0b\uff14\uff19 \uff13\uff10 \uff11\uff12\uff13\uff14\uff15\uff16\uff17" + " " * 236, None,
     "long_250"),                                                # 250 code points, 272 bytes
    ("+49 (0) 30 1234567", None, "trunk_in_intl"),
    ("+49 (0)30 1234567", None, "trunk_in_intl"),
    ("+44 (0) 20 7946 0018", None, "trunk_in_intl"),
    ("+44 020 7946 0018", None, "trunk_in_intl"),
    ("+39 06 6981 2345", "IT", "italian_zero"),
    ("06 6981 2345", "IT", "italian_zero"),
    ("+39 0039 06 6981 2345", None, "italian_zero"),
    ("+225 27 22 12 34 56", None, "leading_zero"),
    ("+1 242 359 1234", "BS", "nanpa"),
    ("(204) 201-2345", "US", "nanpa"),
    ("(204) 201-2345", "CA", "nanpa"),
    ("204 201 2345", "JM", "nanpa"),
    ("1 (204) 201-2345", "US", "nanpa"),
    ("+1 204 201 2345", "GB", "nanpa"),
    ("2012345", "US", "nanpa"),
]

# Numbers whose validity changed between libphonenumber 9.0.41, 9.0.42 and 9.0.43 (found by
# diffing the metadata): they fail the corpus if the reference and the crate disagree on the
# metadata version. Valid in 9.0.42 / 9.0.41 / 9.0.43 as noted.
METADATA_PROBES = [
    ("+61 496 012 345", "AU"),     # 42 yes, 41 no (AU mobile 496[0-4])
    ("+61 496 512 345", "AU"),     # no in all three
    ("+7 930 000 0000", "RU"),     # 42 no, 41 yes (RU mobile narrowed)
    ("+7 930 005 0000", "RU"),     # yes in all three
    ("+290 91234", "SH"),          # 42 yes, 41 no
    ("+49 15410 123456", "DE"),    # 42 no, 43 yes
    ("+229 85 75 12 34", "BJ"),    # 42 yes, 43 no
    ("+229 01 21 12 34 56", "BJ"), # yes in all three
    ("+358 4946 1234", "FI"),      # 42 no, 41 yes
    ("+267 321 12345", "BW"),      # 42 no, 41 yes
    ("+267 79 101 234", "BW"),     # yes in all three
    ("+856 30 412 3456", "LA"),    # yes in all three
    ("+40 630 012 345", "RO"),     # 42 yes, 43 no
    ("+263 751 234 567", "ZW"),    # 42 no, 43 yes
    ("+251 700 123 456", "ET"),    # yes in all three
    ("+593 930 123 456", "EC"),    # 42 no, 43 yes
]
for _text, _region in METADATA_PROBES:
    HANDWRITTEN.append((_text, None, "metadata_version"))
    HANDWRITTEN.append((_text, _region, "metadata_version"))
    HANDWRITTEN.append((phonenumbers.format_number(phonenumbers.parse(_text), F.NATIONAL), _region,
                        "metadata_version"))


def fmt(num, kind):
    return phonenumbers.format_number(num, {"N": F.NATIONAL, "I": F.INTERNATIONAL,
                                             "E": F.E164, "R": F.RFC3966}[kind])


def reference(text, region):
    try:
        num = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return False, ""
    if not phonenumbers.is_valid_number(num):
        return False, ""
    return True, phonenumbers.format_number(num, F.E164)


def to_script(text, zero):
    out = []
    for c in text:
        if "0" <= c <= "9":
            out.append(chr(zero + ord(c) - 48))
        elif c == "+" and zero == 0xFF10:
            out.append("\uff0b")
        else:
            out.append(c)
    return "".join(out)


def separate(text, sep):
    return text.replace(" ", sep).replace("-", sep) if sep != "-" else text.replace(" ", "-")


def parenthesize(text):
    """(first group) rest, or +CC (group) rest."""
    parts = text.replace("-", " ").split(" ")
    if text.startswith("+") and len(parts) >= 3:
        return parts[0] + " (" + parts[1] + ") " + " ".join(parts[2:])
    if len(parts) >= 2:
        return "(" + parts[0] + ") " + " ".join(parts[1:])
    return "(" + text + ")"


def vanity(text, rng, count):
    """Replace the last `count` keypad digits (2-9) of `text` with their letters."""
    chars = list(text)
    replaced = 0
    for i in range(len(chars) - 1, -1, -1):
        if replaced == count:
            break
        if chars[i] in KEYPAD:
            chars[i] = rng.choice(KEYPAD[chars[i]])
            replaced += 1
        elif chars[i] in "01":
            break  # keep the letters in one run at the end
    return "".join(chars) if replaced else None


def mutate_digits(text, rng, how):
    positions = [i for i, c in enumerate(text) if c.isdigit()]
    if not positions:
        return None
    if text.startswith("+"):
        positions = positions[1:] or positions  # keep the first digit of the country code
    i = rng.choice(positions)
    if how == "add":
        return text[:i] + str(rng.randrange(10)) + text[i:]
    if how == "remove":
        return text[:i] + text[i + 1:]
    if how == "change":
        return text[:i] + str((int(text[i]) + rng.randrange(1, 10)) % 10) + text[i + 1:]
    if how == "truncate":
        return text[: max(2, len(text) // 2)]
    if how == "append2":
        return text + str(rng.randrange(10)) + str(rng.randrange(10))
    raise ValueError(how)


def main():
    rng = random.Random(SEED)
    rows = []
    seen = set()

    def add(text, region, category):
        key = (text, region or "")
        if key in seen:
            return
        seen.add(key)
        valid, e164 = reference(text, region)
        rows.append((text, region or "", valid, e164, category))

    for text, region, category in HANDWRITTEN:
        add(text, region, category)

    regions = sorted(phonenumbers.SUPPORTED_REGIONS)
    examples = []  # (own region or None, type name, PhoneNumber)
    for region in regions:
        for name, kind in TYPES:
            num = phonenumbers.example_number_for_type(region, kind)
            if num is not None:
                examples.append((region, name, num))
    for cc in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS):
        num = phonenumbers.example_number_for_non_geo_entity(cc)
        if num is not None:
            examples.append((None, "non_geo", num))

    for own, tname, num in examples:
        cc = num.country_code
        others = [r for r in OTHER_REGIONS if r != own]
        other = rng.choice(others)
        # A region sharing the country code (NANPA, +7, +44, +262, ...), when there is one.
        siblings = [r for r in phonenumbers.region_codes_for_country_code(cc)
                    if r != own and r != "001"]
        forms = {k: fmt(num, k) for k in "NIER"}
        nat = forms["N"]
        intl = forms["I"]

        # 1. The four formats, with the own region, no region, another region.
        for k, text in forms.items():
            if own is not None:
                add(text, own, f"format_{k}_own")
            add(text, None, f"format_{k}_none")
            if k in "NI" or rng.random() < 0.3:
                add(text, other, f"format_{k}_other")
        if siblings:
            sib = rng.choice(sorted(siblings))
            add(nat, sib, "format_N_sibling")
            add(intl, sib, "format_I_sibling")

        # 2. Odd separators and parentheses.
        for _ in range(2):
            sname, sep = rng.choice(SEPARATORS)
            base, region = (intl, rng.choice([None, own or other])) if rng.random() < 0.5 or own is None else (nat, own)
            add(separate(base, sep), region, f"sep_{sname}")
        if own is not None and rng.random() < 0.5:
            add(parenthesize(nat), own, "parens")
        else:
            add(parenthesize(intl), None, "parens")

        # 3. Unicode digits.
        dname, zero = rng.choice(DIGIT_SCRIPTS)
        add(to_script(intl, zero), None, f"digits_{dname}")
        if own is not None:
            dname, zero = rng.choice(DIGIT_SCRIPTS)
            add(to_script(nat, zero), own, f"digits_{dname}")
            # fullwidth with its fullwidth plus, national form with another region
            if rng.random() < 0.5:
                add(to_script(forms["E"], 0xFF10), rng.choice([own, other, None]), "digits_fullwidth_plus")
        if rng.random() < 0.15:  # mixed scripts in one number
            a, b = rng.sample(DIGIT_SCRIPTS, 2)
            half = len(intl) // 2
            add(to_script(intl[:half], a[1]) + to_script(intl[half:], b[1]), None, "digits_mixed")

        # 4. International call prefixes instead of '+'.
        nsn = phonenumbers.national_significant_number(num)
        if rng.random() < 0.5:
            add(f"011 {cc} {nsn}", "US" if cc != 1 else "DE", "idd_011")
            add(f"00 {cc} {nsn}", rng.choice(["DE", "FR", "GB", "IN"]), "idd_00")
        else:
            add(f"00{cc}{nsn}", "GB" if cc != 44 else "FR", "idd_00")
            add(f"011{cc}{nsn}", "CA" if cc != 1 else "JP", "idd_011")
        if rng.random() < 0.5:
            add(f"00 {cc} {nsn}", None, "idd_00_none")
        elif own is not None:
            add(f"00 {cc} {nsn}", own, "idd_00_own")
        if rng.random() < 0.5:
            add(f"011 {cc} {nsn}", "RU" if cc != 7 else "DE", "idd_011_wrong")

        # 5. Vanity letters at the end.
        count = rng.choice([1, 2, 3, 4, 7])
        v = vanity(intl, rng, count)
        if v is not None:
            add(v, None, f"vanity_{count}")
        if own is not None and rng.random() < 0.6:
            v = vanity(nat, rng, rng.choice([1, 2, 3, 4]))
            if v is not None:
                add(v if rng.random() < 0.7 else v.lower(), own, "vanity_national")

        # 6. Invalid variants.
        for how in rng.sample(["add", "remove", "change", "truncate", "append2"], 2):
            base = forms["E"] if rng.random() < 0.5 or own is None else nat
            region = None if base.startswith("+") and rng.random() < 0.5 else (own or other)
            m = mutate_digits(base, rng, how)
            if m:
                add(m, region, f"mutate_{how}")

        # 7. Country code without '+', and trunk prefix kept after the country code.
        if own is not None:
            add(forms["E"][1:], rng.choice([own, None]), "no_plus")
            if nat and nat[0] == "0":
                add(f"+{cc} {nat}", None, "trunk_in_intl")

    # 8. Random digit strings and noise, all regions.
    noise_regions = regions + [None] * 20
    for _ in range(2000):
        region = rng.choice(noise_regions)
        length = rng.randint(1, 17)
        digits = "".join(str(rng.randrange(10)) for _ in range(length))
        if region is None or rng.random() < 0.3:
            text = "+" + digits
        elif rng.random() < 0.5:
            cc = phonenumbers.country_code_for_region(region)
            text = f"+{cc}" + digits if rng.random() < 0.5 else digits
        else:
            text = digits
        add(text, region, "random_digits")

    out = sys.stdout
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    today = (datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc).date()
             if epoch else datetime.date.today())
    out.write("# renraku issue 8: phone validation corpus\n")
    out.write("# generator: gen_phone_corpus.py (seed %d)\n" % SEED)
    out.write("# phonenumbers (Python): %s\n" % phonenumbers.__version__)
    out.write("# libphonenumber metadata: %s (the version rlibphonenumber 2.2.15 embeds)\n"
              % LIBPHONENUMBER_METADATA)
    out.write("# python: %s (unicodedata %s); digits of scripts newer than Unicode 14 are left out on "
              "purpose: Python's answer for them depends on its Unicode version, and rlibphonenumber "
              "2.2.15 (Unicode 16 data) reads them as digits\n"
              % (sys.version.split()[0], unicodedata.unidata_version))
    out.write("# date: %s\n" % today.isoformat())
    out.write("# command: pip install phonenumbers==%s && python3 gen_phone_corpus.py > phones.tsv\n"
              % phonenumbers.__version__)
    out.write("# reference: n = phonenumbers.parse(input, region or None); "
              "valid = parse succeeded and phonenumbers.is_valid_number(n); "
              "e164 = phonenumbers.format_number(n, PhoneNumberFormat.E164) when valid\n")
    out.write("# the '#' lines come only before the column-header row (an input may start with '#')\n")
    out.write("# escaping in input: backslash as \\\\, tab as \\t, newline as \\n, "
              "carriage return as \\r, any other control character (Cc) as \\u{XXXX}; "
              "everything else is raw UTF-8\n")
    out.write("# columns: input, region (empty = no default region), valid (1/0), "
              "e164 (empty when invalid), category (the rule that made the row; information only)\n")
    out.write("# renraku also caps phones at 32 characters and rejects control characters: "
              "rows beyond that are kept on purpose\n")
    out.write("# rows: %d\n" % len(rows))
    out.write("input\tregion\tvalid\te164\tcategory\n")
    for text, region, valid, e164, category in rows:
        out.write(f"{escape(text)}\t{region}\t{int(valid)}\t{e164}\t{category}\n")


if __name__ == "__main__":
    if phonenumbers.__version__ != LIBPHONENUMBER_METADATA:
        sys.exit("need phonenumbers==%s, found %s" % (LIBPHONENUMBER_METADATA, phonenumbers.__version__))
    main()
