r"""The escaping of the reference files, shared by the generators and undone by
`unescape` in `../reference.rs`: `\\`, `\t`, `\n`, `\r`, and `\u{XXXX}` for other
control characters, so that every input stays on one line of one tab-separated field."""

import unicodedata


def escape(text):
    out = []
    for c in text:
        if c == "\\":
            out.append("\\\\")
        elif c in "\t\n\r":
            out.append({"\t": "\\t", "\n": "\\n", "\r": "\\r"}[c])
        elif unicodedata.category(c) == "Cc":
            out.append("\\u{%04X}" % ord(c))
        else:
            out.append(c)
    return "".join(out)
