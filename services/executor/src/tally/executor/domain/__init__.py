"""Pure executor logic: plan compilation, no broker and no database connection."""
