"""A local stand-in for Xero's Accounting API and identity service (the subset the hub uses)."""
