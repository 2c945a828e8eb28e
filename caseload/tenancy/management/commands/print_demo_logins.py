from django.core.management.base import BaseCommand

from caseload.tenancy.management.commands.seed_demo import print_logins


class Command(BaseCommand):
    help = "Print the demo log-ins."

    def handle(self, *args, **options) -> None:
        print_logins(self.stdout)
