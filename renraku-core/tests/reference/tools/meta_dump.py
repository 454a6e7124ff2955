"""Dump Python phonenumbers' metadata in the line format of phone-proto's `metadata` command.

    pip install phonenumbers==9.0.42   # or another version, in its own venv
    python3 meta_dump.py > meta_py_9.0.42.txt
"""
import phonenumbers
from phonenumbers import PhoneMetadata
NAMES = ["general_desc","fixed_line","mobile","toll_free","premium_rate","shared_cost",
         "personal_number","voip","pager","uan","voicemail","no_international_dialling"]
def desc(d):
    if d is None or d.national_number_pattern in (None, "NA"):
        return "-"
    pl = list(d.possible_length or ())
    pll = list(d.possible_length_local_only or ())
    return "%s|%s|%s|%s" % (d.national_number_pattern, pl, pll, d.example_number or "")
def formats(fs):
    return "¦".join("%s>%s@%s" % (f.pattern, f.format, "§".join(f.leading_digits_pattern or ())) for f in (fs or ()))
def dump(key, m):
    print("%s\tcc=%s\tidd=%s\tnp=%s\tnpp=%s\tnptr=%s" % (key, m.country_code, m.international_prefix or "",
          m.national_prefix or "", m.national_prefix_for_parsing or "", m.national_prefix_transform_rule or ""))
    for n in NAMES:
        print("%s\t%s\t%s" % (key, n, desc(getattr(m, n))))
    print("%s\tnumber_format\t%s" % (key, formats(m.number_format)))
for r in sorted(phonenumbers.SUPPORTED_REGIONS):
    dump(r, PhoneMetadata.metadata_for_region(r))
for cc in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS):
    dump("001/%d" % cc, PhoneMetadata.metadata_for_nongeo_region(cc))
