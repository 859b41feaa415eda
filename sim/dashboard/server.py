"""``ronghe dashboard``: serve the Solara app on this machine, offline.

Starts Solara's Starlette app (``solara.server.starlette``, what ``solara run`` serves)
with uvicorn in this process, in production mode, with Solara's telemetry and version
check off. Solara's web assets come from the ``solara-assets`` package through Solara's
own asset route, so the page loads no file from the network. Two more routes serve the
reports the dashboard writes and the CJK font (for browsers without a Chinese font).
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import sys
from pathlib import Path

from sim.errors import ConfigError

USAGE = """usage: ronghe dashboard [--host HOST] [--port N] [--lang zh|en] [--outputs DIR]

The workbench in your browser: pick a library scenario, set the levers, run it against
the baseline (paired, in the background, with progress), see the scorecard with the
chance of each 2027 target and the lever cost, fan and difference charts, save the
scenario as YAML and write the full report.

options:
  --host HOST     address to listen on (default 127.0.0.1: this machine only)
  --port N        port (default 8765)
  --lang zh|en    language the page opens in (default zh; switchable on the page)
  --outputs DIR   where the full reports and their run folders go
                  (default outputs/dashboard under the current folder)
"""
APP = "sim.dashboard.app"
ASSET_REFERENCE = re.compile(r"\{\{cdn\}\}/((?:@widgetti/)?[a-z0-9\-]+@[0-9][^/]*)/")


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: a :class:`ConfigError` instead of usage and exit."""

    def error(self, message: str):
        raise ConfigError(f"ronghe dashboard: {message}; see `ronghe dashboard --help`")


def parse_arguments(argv: list[str]) -> argparse.Namespace | None:
    """The options, or None for ``--help``.

    Raises:
        ConfigError: An unknown option or a bad value, in one line.
    """
    if any(a in ("-h", "--help") for a in argv):
        return None
    parser = _Parser(prog="ronghe dashboard", add_help=False)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--lang", choices=("zh", "en"), default="zh")
    parser.add_argument("--outputs", default=None)
    args = parser.parse_args(argv)
    if not 1 <= args.port <= 65535:
        raise ConfigError(f"ronghe dashboard: --port {args.port}: allowed 1 to 65535")
    return args


def _check_port(host: str, port: int) -> None:
    """Fail in one line if ``host:port`` cannot be listened on (taken, or no such address)."""
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        raise ConfigError(
            f"ronghe dashboard: cannot listen on {host}:{port} ({exc.strerror or exc}); "
            "choose another --port or --host"
        ) from None


def missing_web_assets() -> list[str]:
    """The web assets Solara's page asks for that are not installed (empty when offline-ready).

    Solara's page template names the packages (``@widgetti/solara-vuetify-app@10.1.1``,
    ``requirejs@2.3.6``, ...) it loads through its asset route; ``solara-assets`` installs
    them under the route's folder.
    """
    import solara.server.server as solara_server
    import solara.server.settings as settings

    template = Path(solara_server.__file__).parent / "templates" / "solara.html.j2"
    source = template.read_text(encoding="utf-8")
    vue3 = solara_server.vue3
    wanted = set()
    for line in source.splitlines():
        if ("vuetify3-app" in line) != vue3 and "vuetify" in line:
            continue  # the other Vue version's bundle
        wanted.update(ASSET_REFERENCE.findall(line))
    if settings.assets.fontawesome_enabled:
        wanted.add(settings.assets.fontawesome_path.strip("/").split("/")[0])
    folder = Path(settings.assets.proxy_cache_dir)
    return sorted(name for name in wanted if not (folder / name).is_dir())


def _configure_solara(lang: str, outputs: Path) -> None:
    """Environment and settings before Solara's server modules are imported."""
    os.environ["SOLARA_APP"] = APP
    os.environ["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "false"
    os.environ["SOLARA_THEME_TITLE"] = "Ronghe 融合"
    os.environ["SOLARA_THEME_SHOW_BANNER"] = "false"
    os.environ["SOLARA_MODE"] = "production"
    os.environ["RONGHE_DASHBOARD_LANG"] = lang
    os.environ["RONGHE_DASHBOARD_OUTPUTS"] = str(outputs)
    import solara.server.settings as settings

    settings.main.mode = "production"
    settings.telemetry.mixpanel_enable = False


def page_characters() -> str:
    """Every Chinese character the page's fixed texts use (texts, levers, titles, labels)."""
    from sim.charts.style import INDICATORS, UNITS
    from sim.dashboard.plan import library
    from sim.dashboard.texts import TEXTS, unit_names, unit_text
    from sim.levers import CATALOGUE, UNIT_ZH

    chars = set("0123456789%.,:;()（）：；，。、·–→+-≥≤")
    for zh, _ in TEXTS.values():
        chars.update(zh)
    for lever in CATALOGUE:
        chars.update(lever.name_zh + lever.clause)
    for scenario in library().values():
        chars.update(scenario.title_zh + scenario.description_zh)
    chars.update("".join(UNIT_ZH.values()))
    chars.update("".join(unit_text(lever, "zh") for lever in CATALOGUE))
    for names in (*UNITS.values(), *unit_names().values(), *INDICATORS.values()):
        chars.update(names[0])
    return "".join(sorted(chars))


def build_app(outputs: Path):
    """Solara's Starlette app with the reports folder and the CJK font mounted.

    The font is the packaged Noto Sans CJK SC cut to the page's characters (about
    130 kB instead of 16 MB); the page asks for it only for Chinese characters its
    browser has no local font for, and falls back to the system's for others.
    """
    from solara.server.starlette import app
    from starlette.responses import Response
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    from sim.charts.style import cjk_font_subset
    from sim.dashboard.app import FONT_URL, REPORTS_URL

    font_bytes = cjk_font_subset(page_characters())

    async def font(_request):
        return Response(font_bytes, media_type="font/otf")

    outputs.mkdir(parents=True, exist_ok=True)
    app.router.routes[0:0] = [
        Route(FONT_URL, endpoint=font),
        Mount(REPORTS_URL, app=StaticFiles(directory=outputs, check_dir=False)),
    ]
    return app


def main(argv: list[str]) -> int:
    """Serve the dashboard until interrupted; return the exit code.

    Raises:
        ConfigError: A bad option, a port that cannot be listened on, or Solara's web
            assets missing (``pip install "ronghe[dashboard]"``).
    """
    args = parse_arguments(list(argv))
    if args is None:
        print(USAGE, end="")
        return 0
    outputs = Path(args.outputs or Path.cwd() / "outputs" / "dashboard").expanduser().resolve()
    _check_port(args.host, args.port)
    _configure_solara(args.lang, outputs)
    missing = missing_web_assets()
    if missing:
        raise ConfigError(
            f"dashboard: Solara's web assets are not installed ({', '.join(missing)}); "
            'pip install "ronghe[dashboard]" (it brings solara-assets)'
        )
    import uvicorn

    app = build_app(outputs)
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"Ronghe dashboard: http://{host}:{args.port}/  (Ctrl+C stops it)", flush=True)
    config = uvicorn.Config(
        app, host=args.host, port=args.port, log_level="warning", access_log=False
    )
    uvicorn.Server(config).run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
