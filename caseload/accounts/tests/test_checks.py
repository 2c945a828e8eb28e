from django.core import checks


def test_axes_finds_the_lockout_page_and_the_ip_choice_is_silenced(settings):
    messages = checks.run_checks()
    ids = {message.id for message in messages if not message.is_silenced()}
    assert "axes.W005" not in ids
    assert "axes.W006" not in ids
    assert "axes.W006" in settings.SILENCED_SYSTEM_CHECKS
