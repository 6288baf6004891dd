"""Partner times that may lack a UTC offset → an aware ``occurred_at`` and its :class:`TimeBasis`.

:func:`place` is pure (no I/O but the tz database, read by :mod:`zoneinfo` on first use of a
zone; never at import) and accepts exactly these spellings, as AfterShip documents
``checkpoint_time`` (https://www.aftership.com/docs/tracking/ , checkpoint object):

- empty or missing → ``(received_at, RECEIVED)``: the partner gave no time;
- ``YYYY-MM-DD`` → midnight of that date stored as if UTC, ``DATE`` (precision: the day);
- ``YYYY-MM-DDTHH:MM[:SS[.ffffff]]`` with ``Z`` or ``±HH:MM`` → that instant, ``OFFSET``;
- the same without an offset: a wall time local to the event's place. When the zone of the
  place is certain it is placed there (``ZONE``, kept as the fixed UTC offset it had then);
  else the wall time is kept, stored as if UTC (``LOCAL``): it is not a true instant.

The zone is certain only when (first match wins) the UN/LOCODE is in :data:`LOCODE_ZONES`, the
country and region (state / province) are in :data:`REGION_ZONES`, the country has a single
zone (:data:`COUNTRY_ZONES`), or the UN/LOCODE's country has one. A city name alone is never
taken as certain (names repeat across regions and countries). A wall time that occurs twice
(the hour a clock goes back) takes the earlier one (``fold=0``); one that does not exist (the
hour a clock goes forward) is read with the offset before the change.
Anything else raises :class:`ValueError` (the caller names the field).
"""

import re
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from canonical.events import TimeBasis

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(?P<offset>Z|[+-]\d{2}:?\d{2})?"
)

_SINGLE_ZONE = """
AD=Europe/Andorra AE=Asia/Dubai AF=Asia/Kabul AG=America/Antigua AI=America/Anguilla
AL=Europe/Tirane AM=Asia/Yerevan AO=Africa/Luanda AS=Pacific/Pago_Pago AT=Europe/Vienna
AW=America/Aruba AX=Europe/Mariehamn AZ=Asia/Baku BA=Europe/Sarajevo BB=America/Barbados
BD=Asia/Dhaka BE=Europe/Brussels BF=Africa/Ouagadougou BG=Europe/Sofia BH=Asia/Bahrain
BI=Africa/Bujumbura BJ=Africa/Porto-Novo BL=America/St_Barthelemy BM=Atlantic/Bermuda
BN=Asia/Brunei BO=America/La_Paz BQ=America/Kralendijk BS=America/Nassau BT=Asia/Thimphu
BW=Africa/Gaborone BY=Europe/Minsk BZ=America/Belize CC=Indian/Cocos CF=Africa/Bangui
CG=Africa/Brazzaville CH=Europe/Zurich CI=Africa/Abidjan CK=Pacific/Rarotonga CM=Africa/Douala
CO=America/Bogota CR=America/Costa_Rica CU=America/Havana CV=Atlantic/Cape_Verde
CW=America/Curacao CX=Indian/Christmas CZ=Europe/Prague DJ=Africa/Djibouti
DK=Europe/Copenhagen DM=America/Dominica DO=America/Santo_Domingo DZ=Africa/Algiers
EE=Europe/Tallinn EG=Africa/Cairo EH=Africa/El_Aaiun ER=Africa/Asmara ET=Africa/Addis_Ababa
FI=Europe/Helsinki FJ=Pacific/Fiji FK=Atlantic/Stanley FO=Atlantic/Faroe FR=Europe/Paris
GA=Africa/Libreville GB=Europe/London GD=America/Grenada GE=Asia/Tbilisi GF=America/Cayenne
GG=Europe/Guernsey GH=Africa/Accra GI=Europe/Gibraltar GM=Africa/Banjul GN=Africa/Conakry
GP=America/Guadeloupe GQ=Africa/Malabo GR=Europe/Athens GS=Atlantic/South_Georgia
GT=America/Guatemala GU=Pacific/Guam GW=Africa/Bissau GY=America/Guyana HK=Asia/Hong_Kong
HN=America/Tegucigalpa HR=Europe/Zagreb HT=America/Port-au-Prince HU=Europe/Budapest
IE=Europe/Dublin IL=Asia/Jerusalem IM=Europe/Isle_of_Man IN=Asia/Kolkata IO=Indian/Chagos
IQ=Asia/Baghdad IR=Asia/Tehran IS=Atlantic/Reykjavik IT=Europe/Rome JE=Europe/Jersey
JM=America/Jamaica JO=Asia/Amman JP=Asia/Tokyo KE=Africa/Nairobi KG=Asia/Bishkek
KH=Asia/Phnom_Penh KM=Indian/Comoro KN=America/St_Kitts KP=Asia/Pyongyang KR=Asia/Seoul
KW=Asia/Kuwait KY=America/Cayman LA=Asia/Vientiane LB=Asia/Beirut LC=America/St_Lucia
LI=Europe/Vaduz LK=Asia/Colombo LR=Africa/Monrovia LS=Africa/Maseru LT=Europe/Vilnius
LU=Europe/Luxembourg LV=Europe/Riga LY=Africa/Tripoli MA=Africa/Casablanca MC=Europe/Monaco
MD=Europe/Chisinau ME=Europe/Podgorica MF=America/Marigot MG=Indian/Antananarivo
MK=Europe/Skopje ML=Africa/Bamako MM=Asia/Yangon MO=Asia/Macau MP=Pacific/Saipan
MQ=America/Martinique MR=Africa/Nouakchott MS=America/Montserrat MT=Europe/Malta
MU=Indian/Mauritius MV=Indian/Maldives MW=Africa/Blantyre MZ=Africa/Maputo NA=Africa/Windhoek
NC=Pacific/Noumea NE=Africa/Niamey NF=Pacific/Norfolk NG=Africa/Lagos NI=America/Managua
NL=Europe/Amsterdam NO=Europe/Oslo NP=Asia/Kathmandu NR=Pacific/Nauru NU=Pacific/Niue
OM=Asia/Muscat PA=America/Panama PE=America/Lima PH=Asia/Manila PK=Asia/Karachi
PL=Europe/Warsaw PM=America/Miquelon PN=Pacific/Pitcairn PR=America/Puerto_Rico
PW=Pacific/Palau PY=America/Asuncion QA=Asia/Qatar RE=Indian/Reunion RO=Europe/Bucharest
RS=Europe/Belgrade RW=Africa/Kigali SA=Asia/Riyadh SB=Pacific/Guadalcanal SC=Indian/Mahe
SD=Africa/Khartoum SE=Europe/Stockholm SG=Asia/Singapore SH=Atlantic/St_Helena
SI=Europe/Ljubljana SJ=Arctic/Longyearbyen SK=Europe/Bratislava SL=Africa/Freetown
SM=Europe/San_Marino SN=Africa/Dakar SO=Africa/Mogadishu SR=America/Paramaribo SS=Africa/Juba
ST=Africa/Sao_Tome SV=America/El_Salvador SX=America/Lower_Princes SY=Asia/Damascus
SZ=Africa/Mbabane TC=America/Grand_Turk TD=Africa/Ndjamena TF=Indian/Kerguelen TG=Africa/Lome
TH=Asia/Bangkok TJ=Asia/Dushanbe TK=Pacific/Fakaofo TL=Asia/Dili TM=Asia/Ashgabat
TN=Africa/Tunis TO=Pacific/Tongatapu TR=Europe/Istanbul TT=America/Port_of_Spain
TV=Pacific/Funafuti TW=Asia/Taipei TZ=Africa/Dar_es_Salaam UG=Africa/Kampala
UY=America/Montevideo VA=Europe/Vatican VC=America/St_Vincent VE=America/Caracas
VG=America/Tortola VI=America/St_Thomas VN=Asia/Ho_Chi_Minh VU=Pacific/Efate WF=Pacific/Wallis
WS=Pacific/Apia YE=Asia/Aden YT=Indian/Mayotte ZA=Africa/Johannesburg ZM=Africa/Lusaka
ZW=Africa/Harare
"""
"""Countries with one entry in the tz database's ``zone.tab`` (tzdata 2024+), ``CC=Zone``."""

_SAME_RULES = {
    "AR": "America/Argentina/Buenos_Aires",  # the Argentine zones differ only before 2010
    "CN": "Asia/Shanghai",  # China Standard Time is the legal time everywhere (Urumqi: unofficial)
    "CY": "Asia/Nicosia",  # Asia/Famagusta differed only in 2016-2017
    "DE": "Europe/Berlin",  # Europe/Busingen has had Berlin's rules since 1980
    "MY": "Asia/Kuala_Lumpur",  # Asia/Kuching: the same UTC+8 since 1982
}
"""Countries ``zone.tab`` splits only for history: one zone for any recent time."""

COUNTRY_ZONES: dict[str, str] = dict(pair.split("=") for pair in _SINGLE_ZONE.split()) | _SAME_RULES
"""ISO 3166-1 alpha-2 country → its one IANA zone."""

_EASTERN, _CENTRAL = "America/New_York", "America/Chicago"
_MOUNTAIN, _PACIFIC = "America/Denver", "America/Los_Angeles"
REGION_ZONES: dict[tuple[str, str], str] = {
    **{
        ("US", s): _EASTERN for s in "CT DC DE GA MA MD ME NC NH NJ NY OH PA RI SC VA VT WV".split()
    },
    **{("US", s): _CENTRAL for s in "AL AR IA IL LA MN MO MS OK WI".split()},
    **{("US", s): _MOUNTAIN for s in "CO MT NM UT WY".split()},
    **{("US", s): _PACIFIC for s in "CA WA".split()},
    ("US", "HI"): "Pacific/Honolulu",
    ("CA", "AB"): "America/Edmonton",
    ("CA", "MB"): "America/Winnipeg",
    ("CA", "NB"): "America/Moncton",
    ("CA", "NS"): "America/Halifax",
    ("CA", "PE"): "America/Halifax",
    ("CA", "YT"): "America/Whitehorse",
    ("AU", "ACT"): "Australia/Sydney",
    ("AU", "NT"): "Australia/Darwin",
    ("AU", "QLD"): "Australia/Brisbane",
    ("AU", "SA"): "Australia/Adelaide",
    ("AU", "TAS"): "Australia/Hobart",
    ("AU", "VIC"): "Australia/Melbourne",
}
"""(country, region code) → zone, for whole regions of multi-zone countries that have one zone.
Split regions (US: AK AZ FL ID IN KS KY MI ND NE NV OR SD TN TX; CA: BC NL NT NU ON QC SK;
AU: NSW WA) are left out on purpose."""

LOCODE_ZONES: dict[str, str] = {
    "AUMEL": "Australia/Melbourne",
    "AUSYD": "Australia/Sydney",
    "BRSAO": "America/Sao_Paulo",
    "BRSSZ": "America/Sao_Paulo",
    "CAMTR": "America/Toronto",
    "CATOR": "America/Toronto",
    "CAVAN": "America/Vancouver",
    "ESBCN": "Europe/Madrid",
    "ESMAD": "Europe/Madrid",
    "ESVLC": "Europe/Madrid",
    "MXMEX": "America/Mexico_City",
    "PTLEI": "Europe/Lisbon",
    "PTLIS": "Europe/Lisbon",
    "RULED": "Europe/Moscow",
    "RUMOW": "Europe/Moscow",
    "USATL": _EASTERN,
    "USCHI": _CENTRAL,
    "USHOU": _CENTRAL,
    "USLAX": _PACIFIC,
    "USLGB": _PACIFIC,
    "USMEM": _CENTRAL,
    "USMIA": _EASTERN,
    "USNYC": _EASTERN,
    "USOAK": _PACIFIC,
    "USSDF": "America/Kentucky/Louisville",
    "USSEA": _PACIFIC,
}
"""UN/LOCODE → zone, for hubs and ports in multi-zone countries."""


def zone_of(
    country: str | None = None, region: str | None = None, unlocode: str | None = None
) -> str | None:
    """The IANA zone of a place where it is certain, else None (see the module docstring)."""
    code = (unlocode or "").strip().upper()
    country = (country or "").strip().upper()
    region = (region or "").strip().upper()
    return (
        LOCODE_ZONES.get(code)
        or REGION_ZONES.get((country, region))
        or COUNTRY_ZONES.get(country)
        or COUNTRY_ZONES.get(code[:2])
    )


def _in_zone(wall: datetime, zone: str) -> datetime:
    """``wall`` in ``zone``, as the fixed offset it had there (JSON keeps only offsets)."""
    placed = wall.replace(tzinfo=ZoneInfo(zone), fold=0)
    offset = placed.utcoffset() or timedelta(0)
    return wall.replace(tzinfo=timezone(offset))


def place(
    raw: str | None,
    *,
    received_at: datetime,
    country: str | None = None,
    region: str | None = None,
    unlocode: str | None = None,
) -> tuple[datetime, TimeBasis]:
    """``raw`` as an aware datetime and how it was derived; ValueError for another spelling."""
    text = (raw or "").strip()
    if not text:
        return received_at, TimeBasis.RECEIVED
    if _DATE.fullmatch(text):
        day = date.fromisoformat(text)
        return datetime(day.year, day.month, day.day, tzinfo=UTC), TimeBasis.DATE
    match = _DATETIME.fullmatch(text)
    if match is None:
        raise ValueError(
            "not a documented time: YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS, with or without an offset"
        )
    value = datetime.fromisoformat(text)
    if match.group("offset"):
        return value, TimeBasis.OFFSET
    zone = zone_of(country, region, unlocode)
    if zone is None:
        return value.replace(tzinfo=UTC), TimeBasis.LOCAL
    return _in_zone(value, zone), TimeBasis.ZONE


__all__ = ["COUNTRY_ZONES", "LOCODE_ZONES", "REGION_ZONES", "place", "zone_of"]
