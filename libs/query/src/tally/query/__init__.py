"""Query plans into SQL: the compiler (SQLAlchemy Core, bound parameters) and the reading of
a one-number result. Shared by the executor, which answers questions, and the alerts
service, which evaluates and backtests data alerts."""
