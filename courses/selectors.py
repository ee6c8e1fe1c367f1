"""Read queries over the imported district shared by the passback, the teacher pages and the
admin."""

from courses.models import Account


def school_sis_id(account: Account | None) -> str | None:
    """The school's SIS id for a course's account: its own ``sis_account_id``, or its nearest
    parent's (a course may sit in a department sub-account below the school)."""
    seen: set[int] = set()
    while account is not None and account.canvas_id not in seen:
        if account.sis_account_id:
            return account.sis_account_id
        seen.add(account.canvas_id)
        account = Account.objects.filter(canvas_id=account.parent_id).first()
    return None
