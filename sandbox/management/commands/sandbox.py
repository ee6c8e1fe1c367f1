"""`manage.py sandbox`: serve the simulated district's Canvas API and Infinite Campus OneRoster
gradebook on one port of 127.0.0.1 until Ctrl-C."""

import gc

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sandbox.faults import FAULT_KINDS
from sandbox.generator import District
from sandbox.ic_faults import IC_FAULT_KINDS
from sandbox.layout import SIZES
from sandbox.server import SandboxServer


class Command(BaseCommand):
    help = (
        "Serve a simulated district (seeded, deterministic) on 127.0.0.1 until Ctrl-C: its "
        "Canvas API and its Infinite Campus OneRoster gradebook, on one port."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--size", choices=list(SIZES), default="small")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument(
            "--faults",
            type=float,
            default=0.0,
            help="share of requests that fail, Canvas and IC alike (0..1)",
        )
        parser.add_argument("--token", default="sandbox-token", help="the accepted Bearer token")
        parser.add_argument(
            "--legacy-throttle",
            action="store_true",
            help="answer throttled requests with 403 (older Canvas) instead of 429",
        )
        parser.add_argument(
            "--slow-delay", type=float, default=2.0, help="seconds a 'slow' fault waits"
        )
        parser.add_argument(
            "--faults-ic",
            type=float,
            default=None,
            help="fault rate for IC only (default --faults)",
        )
        parser.add_argument(
            "--faults-canvas",
            type=float,
            default=None,
            help="fault rate for Canvas only (default --faults)",
        )
        parser.add_argument(
            "--ic-fault-kinds",
            default=",".join(FAULT_KINDS),
            help=f"comma-separated IC fault kinds among {','.join(IC_FAULT_KINDS)} "
            "(applied_drop: apply the write, then drop the connection)",
        )
        parser.add_argument("--sis-client-id", default="sandbox-client")
        parser.add_argument("--sis-client-secret", default="sandbox-secret")
        parser.add_argument(
            "--sis-vendor-key", default="", help="require x-vendor-authorization: key:secret"
        )
        parser.add_argument("--sis-vendor-secret", default="")
        parser.add_argument(
            "--sis-token-ttl", type=float, default=3600.0, help="seconds an IC token lives"
        )
        parser.add_argument(
            "--sis-locked-class",
            action="append",
            default=[],
            help="a class sourcedId IC refuses writes to (403); repeatable",
        )
        parser.add_argument(
            "--sis-max-in-flight",
            type=int,
            default=0,
            help="IC answers 429 beyond this many concurrent requests (0: no limit)",
        )

    def handle(self, *args, **options) -> None:
        for name in ("faults", "faults_ic", "faults_canvas"):
            rate = options[name]
            if rate is not None and not 0.0 <= rate <= 1.0:
                raise CommandError(f"--{name.replace('_', '-')} must be between 0 and 1")
        if bool(options["sis_vendor_key"]) != bool(options["sis_vendor_secret"]):
            raise CommandError("--sis-vendor-key and --sis-vendor-secret go together")
        ic_kinds = tuple(k.strip() for k in options["ic_fault_kinds"].split(",") if k.strip())
        if not ic_kinds or set(ic_kinds) - set(IC_FAULT_KINDS):
            raise CommandError(f"--ic-fault-kinds must be among {','.join(IC_FAULT_KINDS)}")
        if options["sis_token_ttl"] <= 0:
            raise CommandError("--sis-token-ttl must be positive")
        if options["sis_max_in_flight"] < 0:
            raise CommandError("--sis-max-in-flight must be 0 or more")
        district = District(options["size"], options["seed"])
        server = SandboxServer(
            district,
            port=options["port"],
            token=options["token"],
            faults=options["faults"],
            legacy_throttle=options["legacy_throttle"],
            slow_delay=options["slow_delay"],
            faults_ic=options["faults_ic"],
            faults_canvas=options["faults_canvas"],
            ic_fault_kinds=ic_kinds,
            sis_client_id=options["sis_client_id"],
            sis_client_secret=options["sis_client_secret"],
            sis_vendor_key=options["sis_vendor_key"] or None,
            sis_vendor_secret=options["sis_vendor_secret"] or None,
            sis_token_ttl=options["sis_token_ttl"],
            sis_locked_classes=tuple(options["sis_locked_class"]),
            sis_max_in_flight=options["sis_max_in_flight"],
        )
        try:
            server.bind()
        except OSError as error:
            reason = error.strerror or str(error)
            raise CommandError(f"cannot listen on 127.0.0.1:{options['port']}: {reason}") from None
        self.stdout.write(
            f"Sandbox Canvas at {server.url} (size {options['size']}, seed {options['seed']}, "
            f"{len(district.course_ids())} courses); Ctrl-C to stop",
        )
        for line in self._settings_lines(server, options):
            self.stdout.write(line)
        self.stdout.flush()
        # This process only serves: collect garbage rarely. Generating a course allocates
        # thousands of short-lived dicts, and frequent full collections would walk the whole
        # course cache each time (~20% of the server's CPU at `district` size).
        gc.set_threshold(100_000, 50, 1000)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.stop()

    def _settings_lines(self, server: SandboxServer, options: dict) -> list[str]:
        """The settings that point this project at the sandbox, ready to paste into .env."""
        lines = [
            f"Sandbox Infinite Campus (OneRoster 1.2 gradebook; 1.1 at {server.sis_v11_base_url})"
            " on the same port. Settings to use:",
            f"CANVAS_BASE_URL={server.url}",
            f"CANVAS_TOKEN={options['token']}",
            # Teachers sign in through the sandbox's one developer key (the settings' defaults).
            f"CANVAS_OAUTH_CLIENT_ID={server.app.oauth.client_id}",
            f"CANVAS_OAUTH_CLIENT_SECRET={server.app.oauth.client_secret}",
            f"SIS_BASE_URL={server.sis_base_url}",
            f"SIS_TOKEN_URL={server.sis_token_url}",
            f"SIS_CLIENT_ID={options['sis_client_id']}",
            f"SIS_CLIENT_SECRET={options['sis_client_secret']}",
        ]
        if options["sis_vendor_key"]:
            lines += [
                f"SIS_VENDOR_KEY={options['sis_vendor_key']}",
                f"SIS_VENDOR_SECRET={options['sis_vendor_secret']}",
            ]
        return lines
