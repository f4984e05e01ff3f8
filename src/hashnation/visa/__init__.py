"""Investor-residency visa programme paid in bitcoin.

:mod:`~hashnation.visa.rules` holds the programme's terms and the documented outcome of
every kind of payment (pure); :mod:`~hashnation.visa.invoices` derives invoice addresses
from the programme's watch-only descriptor; :mod:`~hashnation.visa.service` keeps
applications, invoices and payments in the database, detects payments on chain by SPV,
records fees in the reserve ledger and builds refunds as unsigned PSBTs.
"""

from hashnation.visa.rules import InvoiceState, Outcome, VisaRules

__all__ = ["InvoiceState", "Outcome", "VisaRules"]
