"""Pure mappers between each API's JSON and Relay's canonical records (no I/O).

- canonical: the canonical TypedDicts and ``normalize``;
- salesforce / graph / google: per-API ``*_from_*`` and ``*_to_*`` functions and the
  Salesforce-id markers each mailbox item carries;
- timezones: Windows <-> IANA names and the DST rule;
- occurrences: keys for occurrences of recurring mailbox series.
"""
