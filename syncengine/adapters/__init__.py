"""All provider I/O of a sync session: one adapter per API, no planning, no ORM."""
