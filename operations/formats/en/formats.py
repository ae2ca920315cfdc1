"""How the back office writes dates and times (FORMAT_MODULE_PATH; LANGUAGE_CODE en-us falls back to "en").

Staff work across time zones and read times next to logs and API payloads in UTC, so a time always
names its zone ("2026-12-06 14:03 UTC"), and dates are ISO so that they sort as they read. With
localisation always on, Django takes these from the locale's format module, not from the
DATETIME_FORMAT settings, hence FORMAT_MODULE_PATH. Input formats stay Django's own.
"""

DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i T"
SHORT_DATETIME_FORMAT = "Y-m-d H:i T"
TIME_FORMAT = "H:i"
