"""Offline laptops and sync with the master database (docs/architecture.md, how a change travels;
docs/decisions.md: UUID keys, sync trust).

- `capture`: the outbox listener (every change on a laptop is recorded in its own transaction);
- `briefcase`: what a pull carries and how a laptop takes it (read-only and purged cases);
- `apply`: how the master applies pushed operations once each, and the conflict rules
  (`policy` lists them); `outbox`: the laptop's side of a push;
- `packet`: the same exchanges as files; `hlc`: hybrid logical clocks; `codec`: rows as JSON;
- `engine`: pull, push, sync and packets between two stores (CLI and sync screen).
"""
