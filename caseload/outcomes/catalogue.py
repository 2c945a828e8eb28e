"""The standard survey forms of Outcomes (JSON files in caseload/formbuilder/standard/).

``outcome_survey`` is the default survey of every program's follow-up schedule; a program may
name another loaded form (``FollowUpSchedule.survey_key``).
"""

DEFAULT_SURVEY = "outcome_survey"
OUTCOME_SURVEYS = [DEFAULT_SURVEY]
# The survey's employment statuses that count as employed (employer, hours and wage apply).
EMPLOYED = ["employed_full_time", "employed_part_time", "self_employed"]
