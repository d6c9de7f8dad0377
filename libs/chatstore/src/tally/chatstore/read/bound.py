"""Bound parameters of statements built once, at import, and run with each call's values
(``fetch_all(db, STATEMENT, {"chat_id": …})``): building a report's SQLAlchemy statements
took as long in Python as PostgreSQL took to answer them (6 ms for a member's figures)."""

from datetime import date

from sqlalchemy import BigInteger, Date, Integer, bindparam
from sqlalchemy.dialects.postgresql import ARRAY

CHAT = bindparam("chat_id", 0, type_=BigInteger)
USER = bindparam("user_id", 0, type_=BigInteger)
START = bindparam("start", date.min, type_=Date)
"""The period's first local day."""
END = bindparam("end", date.min, type_=Date)
"""The period's last local day (inclusive)."""
DAYS = bindparam("days", [], type_=ARRAY(Date))
"""Every local day of the period."""
LIMIT = bindparam("limit", 1, type_=Integer)
