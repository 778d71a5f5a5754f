# The forms the pages always used: "Nov 30, 2026 16:05", "Nov 30, 16:05", "Nov 30, 2026".
DATE_FORMAT = "M j, Y"
DATETIME_FORMAT = "M j, Y H:i"
SHORT_DATE_FORMAT = "M j, Y"
SHORT_DATETIME_FORMAT = "M j, H:i"
