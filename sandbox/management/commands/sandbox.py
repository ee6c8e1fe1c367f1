"""`manage.py sandbox`: serve the simulated district's Canvas API on 127.0.0.1 until Ctrl-C."""

import gc

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sandbox.generator import District
from sandbox.layout import SIZES
from sandbox.server import SandboxServer


class Command(BaseCommand):
    help = "Serve a simulated Canvas district (seeded, deterministic) on 127.0.0.1 until Ctrl-C."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--size", choices=list(SIZES), default="small")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument(
            "--faults", type=float, default=0.0, help="share of API requests that fail (0..1)"
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

    def handle(self, *args, **options) -> None:
        if not 0.0 <= options["faults"] <= 1.0:
            raise CommandError("--faults must be between 0 and 1")
        district = District(options["size"], options["seed"])
        server = SandboxServer(
            district,
            port=options["port"],
            token=options["token"],
            faults=options["faults"],
            legacy_throttle=options["legacy_throttle"],
            slow_delay=options["slow_delay"],
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
