"""Trust (issue 6): the audit log viewer, frozen exports with their count and checksum, the
integrity signals page and the minimum cell size rule of the pages that break results down."""
