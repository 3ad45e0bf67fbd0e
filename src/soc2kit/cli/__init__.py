"""The command-line interface: parse, call the library, print. The one place where errors become
exit codes (see :class:`soc2kit.errors.ExitCode`)."""

from __future__ import annotations

import sys
import traceback

from soc2kit.cli import access_cmds as _access_cmds  # noqa: F401
from soc2kit.cli import assess_cmds as _assess_cmds  # noqa: F401  (registers the commands)
from soc2kit.cli import check_cmds as _check_cmds  # noqa: F401
from soc2kit.cli import dataset_cmds as _dataset_cmds  # noqa: F401
from soc2kit.cli import evidence_cmds as _evidence_cmds  # noqa: F401
from soc2kit.cli import export_cmds as _export_cmds  # noqa: F401
from soc2kit.cli import oscal_cmds as _oscal_cmds  # noqa: F401
from soc2kit.cli import people_cmds as _people_cmds  # noqa: F401
from soc2kit.cli import policy_cmds as _policy_cmds  # noqa: F401
from soc2kit.cli import serve_cmds as _serve_cmds  # noqa: F401
from soc2kit.cli import sysdesc_cmds as _sysdesc_cmds  # noqa: F401
from soc2kit.cli import vendor_cmds as _vendor_cmds  # noqa: F401
from soc2kit.cli.app import app
from soc2kit.errors import ExitCode, UserError


def main(argv: list[str] | None = None) -> None:
    try:
        app(args=argv, prog_name="soc2kit")
    except UserError as exc:
        sys.stderr.write(f"error: {exc.render()}\n")
        sys.exit(exc.exit_code)
    except OSError as exc:  # the machine refused (permissions, disk full): not a bug in soc2kit
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        sys.stderr.write(f"error: the operating system refused: {exc.strerror or exc}{where}\n  hint: check permissions and free disk space, then run the command again; nothing was half-written\n")
        sys.exit(ExitCode.USER_ERROR)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
    except Exception:  # a bug: keep the traceback
        traceback.print_exc()
        sys.stderr.write(
            "\nsoc2kit hit an internal error (a bug, not a problem with your input). "
            "Please report it with the traceback above.\n"
        )
        sys.exit(ExitCode.INTERNAL_ERROR)


__all__ = ["app", "main"]
