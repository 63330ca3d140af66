-- A catalogue from the hub that this terminal cannot use (unsigned, not
-- valid, not for its site): the terminal keeps selling on the one it has and
-- says so (lango sync status, the kiosk's status bar, the hub's report
-- through a catalogue.refused event). JSON {"seq", "version", "reason",
-- "at"}, or '' once a later catalogue is applied.
ALTER TABLE sync_state ADD COLUMN catalogue_refused TEXT NOT NULL DEFAULT '';
