"""The bonus service (seed letter Б): one money account per manager, fed by money events.

Bonuses and payments credit an account, fines debit it; every one becomes exactly one entry of
an append-only ledger, and balances are sums over that ledger.
"""
