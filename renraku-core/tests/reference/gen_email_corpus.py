#!/usr/bin/env python3
"""Generate renraku's email validation corpus (issue 8).

Usage:

    pip install idna==3.20
    python3 gen_email_corpus.py > emails.tsv

The reference is the WHATWG "valid email address" rule (HTML, input type=email) applied after
IDNA conversion of the domain:

    local, domain = input.rsplit("@", 1)          # no "@": invalid
    ascii_domain  = idna.encode(domain, uts46=True, transitional=False).decode("ascii")
                    # UTS 46 mapping, non-transitional; any idna error: invalid
    valid         = WHATWG_RE.fullmatch(local + "@" + ascii_domain) is not None

Notes on the `idna` package as the IDNA step: it maps with UTS 46 (lower-casing, full-width to
ASCII, dropping ignored characters such as U+00AD SOFT HYPHEN and U+200B) and then validates
every label with IDNA 2008 (RFC 5891/5892/5893): no leading or trailing hyphen, no "--" in
positions 3-4 unless the label is a valid "xn--" A-label, only PVALID code points (no emoji or
symbols), CONTEXTJ/CONTEXTO rules for ZWJ, ZWNJ, middle dots, and the Bidi rule; labels of at most
63 and domains of at most 253 octets. That is stricter than the WHATWG URL standard's
domain-to-ASCII (UTS 46 with CheckHyphens=false and without IDNA 2008's PVALID restriction),
which is what the Rust `idna` crate's `domain_to_ascii` implements; rows whose domain the two treat
differently (checked with the Rust crate) carry a note ending in `;idna_py_stricter`.

Rows are deterministic (seeded); only the `# date:` line changes between runs (SOURCE_DATE_EPOCH
pins it). Columns: `input`, `whatwg_idna_valid` (1/0), `ascii_domain` (the idna result for the
part after the last "@", or empty when there is no "@" or idna rejects it), `note` (the case's
category). In `input` a backslash is written `\\\\`, a tab `\\t`, a newline `\\n`, a carriage return
`\\r`, any other control character (Cc) `\\u{XXXX}`; everything else is raw UTF-8.
"""

import datetime
import os
import random
import re
import sys

import idna

from tsv import escape

SEED = 8
IDNA_VERSION = "3.20"

WHATWG_RE = re.compile(
    r"^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
    r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$")


def reference(address):
    if "@" not in address:
        return False, ""
    local, domain = address.rsplit("@", 1)
    try:
        ascii_domain = idna.encode(domain, uts46=True, transitional=False).decode("ascii")
    except (idna.IDNAError, UnicodeError, ValueError):
        return False, ""
    # `$` in Python also matches before a final newline: require the whole string.
    return WHATWG_RE.fullmatch(local + "@" + ascii_domain) is not None, ascii_domain


LOCALS = [
    ("plain", "ada"),
    ("dotted", "ada.lovelace"),
    ("single_char", "a"),
    ("uppercase", "ADA"),
    ("digits", "1234"),
    ("plus_tag", "ada+tag"),
    ("underscore", "ada_l"),
    ("apostrophe", "o'brien"),
    ("all_specials", "x!#$%&'*+/=?^_`{|}~-y"),
    ("hyphen_start", "-ada"),
    ("double_dot", "a..b"),
    ("leading_dot", ".ada"),
    ("trailing_dot", "ada."),
    ("quoted", '"ada"'),
    ("quoted_space", '"ada lovelace"'),
    ("quoted_at", '"ada@home"'),
    ("non_ascii_local", "zoë"),
    ("non_ascii_local_nfd", "zoe\u0308"),
    ("cyrillic_local", "ада"),
    ("cjk_local", "用户"),
    ("space_in_local", "ada lovelace"),
    ("bidi_in_local", "ada\u202e"),
    ("zwsp_in_local", "ada\u200b"),
    ("local_64", "a" * 64),
    ("local_65", "a" * 65),
    ("comment", "ada(comment)"),
    ("backslash", "ada\\b"),
    ("comma", "ada,b"),
    ("semicolon", "ada;b"),
    ("angle", "a<b"),
    ("colon", "ada:b"),
    ("brackets", "ada[b]"),
    ("fullwidth_local", "ａｄａ"),
    ("empty_local", ""),
]

DOMAINS = [
    ("plain", "example.org"),
    ("subdomain", "mail.example.co.uk"),
    ("uppercase", "EXAMPLE.ORG"),
    ("mixed_case", "Example.Org"),
    ("digits_label", "123.example"),
    ("numeric_tld", "1.2.3.4"),
    ("two_letter", "x.y"),
    ("idn_latin", "bücher.de"),
    ("idn_latin_upper", "BÜCHER.DE"),
    ("idn_nfd", "bu\u0308cher.de"),
    ("idn_japanese", "例え.jp"),
    ("idn_japanese_tld", "ドメイン.テスト"),
    ("idn_chinese", "中国互联网络信息中心.中国"),
    ("idn_cyrillic", "пример.рф"),
    ("idn_cyrillic_upper", "ПРИМЕР.РФ"),
    ("idn_greek", "παράδειγμα.δοκιμή"),
    ("idn_greek_final_sigma", "ελλάς.gr"),
    ("idn_arabic", "مثال.إختبار"),
    ("idn_hebrew", "דוגמה.קום"),
    ("idn_devanagari", "उदाहरण.परीक्षा"),
    ("idn_thai", "ตัวอย่าง.ไทย"),
    ("idn_korean", "실례.테스트"),
    ("sharp_s", "faß.de"),
    ("final_sigma_only", "ς.gr"),
    ("punycode_valid", "xn--bcher-kva.de"),
    ("punycode_upper", "XN--BCHER-KVA.DE"),
    ("punycode_invalid", "xn--a.org"),
    ("punycode_garbage", "xn--zz-.org"),
    ("punycode_of_ascii", "xn--abc-.org"),
    ("punycode_emoji", "xn--ls8h.la"),
    ("emoji", "💩.la"),
    ("snowman", "☃.net"),
    ("soft_hyphen", "exa\u00admple.org"),
    ("soft_hyphen_only_label", "\u00ad.example.org"),
    ("zwsp", "exa\u200bmple.org"),
    ("zwj_latin", "exa\u200dmple.org"),
    ("zwnj_latin", "exa\u200cmple.org"),
    ("zwnj_persian", "\u0646\u0627\u0645\u0647\u200c\u0627\u06cc.com"),
    ("word_joiner", "exa\u2060mple.org"),
    ("bom", "\ufeffexample.org"),
    ("bidi_rlo", "exa\u202emple.org"),
    ("bidi_lri", "\u2066example.org"),
    ("bidi_mixed_label", "abcא.com"),
    ("fullwidth_ascii", "ｅｘａｍｐｌｅ.org"),
    ("ideographic_full_stop", "example。org"),
    ("fullwidth_full_stop", "example．org"),
    ("ligature", "ﬁnance.com"),
    ("combining_leading", "\u0301a.com"),
    ("dotted_capital_i", "İstanbul.tr"),
    ("middle_dot_catalan", "l·l.cat"),
    ("middle_dot_bad", "a·b.cat"),
    ("katakana_middle_dot", "ジョン・スミス.jp"),
    ("localhost", "localhost"),
    ("single_label", "example"),
    ("ip_literal", "[127.0.0.1]"),
    ("ip_literal_v6", "[IPv6:::1]"),
    ("ip_after_domain", "evil.com[127.0.0.1]"),
    ("ip_after_markup", "<script>[1.1.1.1]"),
    ("bare_ip", "127.0.0.1"),
    ("trailing_dot", "example.org."),
    ("leading_dot", ".example.org"),
    ("double_dot", "example..org"),
    ("leading_hyphen", "-example.org"),
    ("trailing_hyphen", "example-.org"),
    ("hyphen_34", "ab--cd.org"),
    ("hyphen_inner", "ex-ample.org"),
    ("underscore", "ex_ample.org"),
    ("underscore_label", "_dmarc.example.org"),
    ("space", "ex ample.org"),
    ("port", "example.org:25"),
    ("path", "example.org/x"),
    ("label_63", "a" * 63 + ".org"),
    ("label_64", "a" * 64 + ".org"),
    ("domain_253", ".".join(["a" * 62] * 4) + ".b"),
    ("domain_254", ".".join(["a" * 62] * 4) + ".bc"),
    ("empty", ""),
    ("dot_only", "."),
    ("percent", "ex%61mple.org"),
    ("at_sign_fullwidth", "example＠org"),
]

WHOLE = [
    ("no_at", "ada"),
    ("no_at_domain_only", "example.org"),
    ("at_only", "@"),
    ("empty_domain", "ada@"),
    ("empty_local", "@example.org"),
    ("two_ats", "ada@@example.org"),
    ("two_at_parts", "ada@home@example.org"),
    ("trailing_space", "ada@example.org "),
    ("leading_space", " ada@example.org"),
    ("space_around_at", "ada @ example.org"),
    ("newline_end", "ada@example.org\n"),
    ("newline_inside", "ada@exam\nple.org"),
    ("tab", "ada\t@example.org"),
    ("nul", "ada@example.org\u0000"),
    ("cr_lf_header", "ada@example.org\r\nBcc: eve@example.org"),
    ("mailto", "mailto:ada@example.org"),
    ("display_name", "Ada <ada@example.org>"),
    ("angle_only", "<ada@example.org>"),
    ("comma_list", "ada@example.org,eve@example.org"),
    ("semicolon_list", "ada@example.org;eve@example.org"),
    ("fullwidth_at", "ada＠example.org"),
    ("small_at", "ada﹫example.org"),
    ("bidi_override_whole", "\u202eada@example.org"),
    ("total_254", "a" * 64 + "@" + ".".join(["b" * 60] * 3) + "." + "c" * 6),
    ("total_255", "a" * 64 + "@" + ".".join(["b" * 60] * 3) + "." + "c" * 7),
    ("total_320", "a" * 64 + "@" + ".".join(["b" * 62] * 4)),
    ("total_300_local_long", "a" * 100 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 60),
    ("html_injection", "ada@example.org<script>"),
    ("quote_injection", "ada@example.org\"onmouseover=\"x"),
    ("sql_like", "ada'--@example.org"),
    ("unicode_dots_local", "ada。lovelace@example.org"),
    ("homoglyph_cyrillic_a", "аda@example.org"),
    ("homoglyph_domain", "ada@exаmple.org"),
    ("at_in_quoted", '"a@b"@example.org'),
    ("ipv6_literal_bad", "ada@[::1]"),
    ("ip_literal_bad_octet", "ada@[300.0.0.1]"),
    ("ip_literal_garbage", "ada@[foo]"),
    ("nfc_domain_needed", "ada@exam\u0301ple.org"),
]


# Domains that Python idna rejects but the WHATWG URL domain-to-ASCII (the Rust `idna` crate's
# `domain_to_ascii`, UTS 46 with CheckHyphens=false, VerifyDnsLength=false) accepts: symbols and
# emoji (not PVALID in IDNA 2008), a middle dot outside l·l (CONTEXTO), "--" in positions 3-4,
# a 254-octet domain. Their notes end in ";idna_py_stricter".
IDNA_PY_STRICTER = {"emoji", "snowman", "punycode_emoji", "middle_dot_bad", "hyphen_34", "domain_254"}


def tag(note, dnote):
    return note + (";idna_py_stricter" if dnote in IDNA_PY_STRICTER else "")


def main():
    rng = random.Random(SEED)
    rows = []
    seen = set()

    def add(address, note):
        if address in seen:
            return
        seen.add(address)
        valid, ascii_domain = reference(address)
        rows.append((address, valid, ascii_domain, note))

    for note, address in WHOLE:
        add(address, "whole:" + note)
    for dnote, domain in DOMAINS:
        add("ada@" + domain, tag("domain:" + dnote, dnote))
    for lnote, local in LOCALS:
        add(local + "@example.org", "local:" + lnote)
    for lnote, local in LOCALS:
        add(local + "@bücher.de", "local:" + lnote + "+domain:idn_latin")
    # Random pairs, and random case changes of valid-looking addresses.
    while len(rows) < 800:
        lnote, local = rng.choice(LOCALS)
        dnote, domain = rng.choice(DOMAINS)
        address = local + "@" + domain
        if rng.random() < 0.2:
            address = address.upper()
            lnote += "_upper"
        add(address, tag("local:%s+domain:%s" % (lnote, dnote), dnote))

    out = sys.stdout
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    today = (datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc).date()
             if epoch else datetime.date.today())
    out.write("# renraku issue 8: email validation corpus\n")
    out.write("# generator: gen_email_corpus.py (seed %d)\n" % SEED)
    out.write("# idna (Python): %s\n" % idna.__version__)
    out.write("# date: %s\n" % today.isoformat())
    out.write("# command: pip install idna==%s && python3 gen_email_corpus.py > emails.tsv\n"
              % idna.__version__)
    out.write("# reference: local, domain = input.rsplit('@', 1); ascii_domain = idna.encode(domain, "
              "uts46=True, transitional=False); valid = WHATWG input type=email regex matches "
              "local@ascii_domain in full; no '@' or an idna error: invalid\n")
    out.write("# WHATWG regex: %s\n" % WHATWG_RE.pattern)
    out.write("# idna 3.x = UTS 46 mapping + IDNA 2008 label rules: stricter than WHATWG URL "
              "domain-to-ASCII (see the generator's docstring); notes ending in ;idna_py_stricter "
              "mark domains that the Rust idna crate's domain_to_ascii accepts and Python idna rejects\n")
    out.write("# escaping in input: backslash as \\\\, tab as \\t, newline as \\n, carriage return "
              "as \\r, any other control character (Cc) as \\u{XXXX}; everything else is raw UTF-8\n")
    out.write("# columns: input, whatwg_idna_valid (1/0), ascii_domain (empty when there is no '@' "
              "or idna rejects the domain), note (category)\n")
    out.write("# rows: %d\n" % len(rows))
    out.write("input\twhatwg_idna_valid\tascii_domain\tnote\n")
    for address, valid, ascii_domain, note in rows:
        out.write("%s\t%d\t%s\t%s\n" % (escape(address), valid, ascii_domain, note))


if __name__ == "__main__":
    if idna.__version__ != IDNA_VERSION:
        sys.exit("need idna==%s, found %s" % (IDNA_VERSION, idna.__version__))
    main()
