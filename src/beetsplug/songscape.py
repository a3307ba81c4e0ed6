"""The songscape plugin for beets (add ``songscape`` to ``plugins:`` in beets' config; it comes
with the songscape package, nothing to copy). ``beet songscape RUN`` writes each library item
that the songscape run analysed (matched by file path) its cluster, the cluster's name and its
position on the run's map as flexible attributes: ``songscape_cluster``,
``songscape_cluster_name``, ``songscape_x``, ``songscape_y``, so that
``beet ls songscape_cluster:3`` and smart playlists work."""

from __future__ import annotations

import os
from pathlib import Path

from beets import dbcore
from beets.plugins import BeetsPlugin
from beets.ui import Subcommand, UserError, print_


class SongscapePlugin(BeetsPlugin):
    """``beet songscape RUN [--representation R] [--algorithm A]``."""

    item_types = {"songscape_cluster": dbcore.types.INTEGER, "songscape_x": dbcore.types.FLOAT,
                  "songscape_y": dbcore.types.FLOAT}

    def commands(self) -> list[Subcommand]:
        command = Subcommand("songscape", help="write a songscape run's clusters and map positions on the items")
        command.parser.usage += " RUN"
        command.parser.add_option("--representation", help="whose clusters (default: the run's best)")
        command.parser.add_option("--algorithm", help="which clustering (default: the run's best)")
        command.func = self.write_attributes
        return [command]

    def write_attributes(self, lib, opts, args) -> None:  # noqa: ANN001 (beets' command interface)
        """Write the run's attributes on every matched item; say how many matched and which
        of the run's tracks the library does not hold."""
        if len(args) != 1:
            raise UserError("give one songscape run folder: beet songscape RUN")
        from songscape.beets_library import item_attributes  # songscape loads only when the command runs
        from songscape.library import LibraryError
        from songscape.workspace import RunFileError

        try:
            attributes = item_attributes(Path(args[0]), opts.representation, opts.algorithm)
        except (LibraryError, RunFileError) as error:
            raise UserError(str(error)) from None
        matched = set()
        with lib.transaction():
            for item in lib.items():
                path = Path(os.fsdecode(item.path)).resolve()
                if path in attributes:
                    item.update(attributes[path])
                    item.store()
                    matched.add(path)
        missing = sorted(str(path) for path in set(attributes) - matched)
        print_(f"songscape: {len(matched)} items updated from {args[0]}")
        if missing:
            print_(f"songscape: {len(missing)} tracks of the run are not in this library (first: {missing[0]})")
