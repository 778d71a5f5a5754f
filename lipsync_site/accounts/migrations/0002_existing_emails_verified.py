# Sign-in moves to django-allauth with mandatory e-mail verification (issue 12). Accounts
# made before it were made by an administrator who typed the address: record it as
# verified, so nobody is locked out on the day of the upgrade. An address two accounts
# share stays unverified on the second (allauth allows one verified owner per address).

from django.db import migrations


def record_existing_addresses(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    EmailAddress = apps.get_model("account", "EmailAddress")
    for user in User.objects.exclude(email="").order_by("pk").iterator():
        email = user.email.strip().lower()
        if EmailAddress.objects.filter(user=user, email=email).exists():
            continue
        taken = EmailAddress.objects.filter(email=email, verified=True).exists()
        EmailAddress.objects.create(user=user, email=email, verified=not taken, primary=True)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("account", "0009_emailaddress_unique_primary_email"),
    ]

    operations = [migrations.RunPython(record_existing_addresses, migrations.RunPython.noop)]
