from django.core.management.base import BaseCommand, CommandParser

from caseload.tenancy import demo


class Command(BaseCommand):
    help = "Create the demo agencies, staff and clients (idempotent). --clients N generates N clients per agency."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--clients", type=int, default=50, help="clients per agency (default 50)")

    def handle(self, *args, clients: int, **options) -> None:
        if clients < 0:
            self.stderr.write("--clients must be zero or more")
            raise SystemExit(2)
        for agency in demo.seed(clients=clients):
            self.stdout.write(f"{agency.name}: ready")
        print_logins(self.stdout)


def print_logins(out) -> None:
    out.write(f"\nDemo log-ins (password for every account: {demo.DEMO_PASSWORD})")
    for agency, role, email in demo.logins():
        out.write(f"  {agency:<32} {role:<14} {email}")
    out.write("\nOpen http://127.0.0.1:8000 and log in with one of them.\n")
