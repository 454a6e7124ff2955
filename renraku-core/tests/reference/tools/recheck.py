"""Recompute phones.tsv's reference with the installed phonenumbers and count changed rows.

    python3 recheck.py ../phones.tsv
Result on 2026-11-28: 9.0.41 changes 15 rows, 9.0.42 0, 9.0.43 69.
"""
import sys, phonenumbers
from phonenumbers import PhoneNumberFormat as F
def unescape(s):
    out=[]; i=0
    while i < len(s):
        c=s[i]
        if c!='\\': out.append(c); i+=1; continue
        n=s[i+1]
        if n=='u':
            j=s.index('}', i); out.append(chr(int(s[i+3:j],16))); i=j+1; continue
        out.append({'\\':'\\','t':'\t','n':'\n','r':'\r'}[n]); i+=2
    return ''.join(out)
diff=0; n=0
for line in open(sys.argv[1], encoding='utf-8'):
    if line.startswith('#') or line.startswith('input\t'): continue
    inp, reg, valid, e164, cat = line.rstrip('\n').split('\t')
    text=unescape(inp); n+=1
    try:
        num=phonenumbers.parse(text, reg or None); v=phonenumbers.is_valid_number(num); e=phonenumbers.format_number(num,F.E164) if v else ''
    except phonenumbers.NumberParseException: v=False; e=''
    if (v, e) != (valid=='1', e164):
        diff+=1
        if diff<=8: print('  ', repr(text), reg, valid, e164, '->', int(v), e, cat)
print(phonenumbers.__version__, 'rows', n, 'differ from the 9.0.42 reference:', diff)
