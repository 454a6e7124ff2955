"""Compare rlibphonenumber 2.2.15's embedded metadata.bin with Python phonenumbers' metadata.

    cd /work/scratch && CARGO_TARGET_DIR=/work/scratch/target cargo run --release --manifest-path phone-proto/Cargo.toml -- \
        metadata ~/.cargo/registry/src/*/rlibphonenumber-2.2.15/src/generated/metadata/metadata.bin > meta_rust.txt
    python3 meta_compare.py 9.0.41 9.0.42 9.0.43     # reads meta_rust.txt and meta_py_<version>.txt

Compared per territory (245 regions + 9 non-geographic codes): country code, international
prefix, national prefix, national prefix for parsing and its transform rule, every number type's
national number pattern and example number, and the number formats. The crate wraps every pattern
in ^(?:...)$ and writes $1 for \\1, and leaves out per-type possible lengths equal to the general
description's; those representation differences are normalized away.
Result on 2026-11-28: 9.0.41 differs in 37 lines (21 regions), 9.0.42 in 0, 9.0.43 in 20 (9 regions).
"""
import re, sys
def unanchor(p):
    return p[4:-2] if p.startswith('^(?:') and p.endswith(')$') else p
def norm(line, rust):
    key, rest = line.split('\t', 1)
    parts = rest.split('\t')
    if parts[0].startswith('cc='):
        fields = [f.split('=', 1) for f in parts]
        return key + '\t' + '\t'.join(k + '=' + (unanchor(v) if rust else (re.sub(r'\\(\d)', r'$\1', v) if k == 'nptr' else v)) for k, v in fields)
    name, value = parts
    if name == 'number_format':
        out = []
        for f in value.split('¦') if value else []:
            pat, rest2 = f.split('>', 1)
            fmt, lead = rest2.rsplit('@', 1)
            if rust:
                pat = unanchor(pat); lead = '§'.join(unanchor(x) for x in lead.split('§')) if lead else ''
            else:
                fmt = re.sub(r'\\(\d)', r'$\1', fmt)
            out.append(f"{pat}>{fmt}@{lead}")
        return f"{key}\t{name}\t{'¦'.join(out)}"
    if value == '-':
        return line
    pat, pl, pll, ex = value.rsplit('|', 3)
    if rust: pat = unanchor(pat)
    # possible lengths equal to the general description's are left out of the compiled metadata
    return f"{key}\t{name}\t{pat}|{ex}"
LIMIT = 40
rust = set(norm(l, True) for l in open('meta_rust.txt').read().splitlines())
for v in sys.argv[1:]:
    py = set(norm(l, False) for l in open(f'meta_py_{v}.txt').read().splitlines())
    r, p = sorted(rust - py), sorted(py - rust)
    regions = sorted(set(l.split('\t')[0] for l in r + p))
    print(f"phonenumbers {v}: {len(py)} lines compared, {len(r)} differ; regions differing: {regions}")
    for l in r[:LIMIT]: print('   rlib  ', l[:160])
    for l in p[:LIMIT]: print('   python', l[:160])
