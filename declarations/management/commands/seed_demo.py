"""`python manage.py seed_demo`: the demo world, idempotent.

The organisations and users come from accounts.demo; each later part of the service adds its
own demo data through a `seed_<part>(world)` function, called here in workflow order.  The
command lives in declarations, the top app, because it uses every app below it.
"""

from django.core.management.base import BaseCommand

from accounts.demo import DEMO_PASSWORD, USERS, seed_organisations_and_users
from achievement.demo import seed_achievement
from declarations.demo import seed_declarations
from declarations.demo_claims import seed_monthly_claims
from participation.demo import seed_participation

# The later steps of the demo world, in workflow order: (name shown, step).
DEMO_STEPS = [
    ("participation.demo", seed_participation),
    ("achievement.demo", seed_achievement),
    ("declarations.demo", seed_declarations),
    ("declarations.demo_claims", seed_monthly_claims),
]


class Command(BaseCommand):
    help = "Create or refresh the demo world: organisations, users, services, offers, achievement."

    def handle(self, *args, **options):
        world = seed_organisations_and_users()
        self.stdout.write(f"Organisations: {world['icb']}, {len(world['pcns'])} PCNs, {len(world['practices'])} practices")
        for name, step in DEMO_STEPS:
            summary = step(world)
            self.stdout.write(f"{name}: {summary or 'done'}")
        self.stdout.write(self.style.SUCCESS(f"Demo logins (password {DEMO_PASSWORD}):"))
        for email, (_name, holdings) in USERS.items():
            roles = ", ".join(sorted({str(role.label) for _, role in holdings}))
            self.stdout.write(f"  {email:28} {roles}")
