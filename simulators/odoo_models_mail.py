"""The chatter models: messages posted on records and scheduled activities.

``mail.message`` and ``mail.activity`` point at their record with ``model``/``res_model``
(the model name) and ``res_id`` (its id), as in Odoo. ``mail.activity.type`` is seeded with
Odoo's standard types (see :mod:`simulators.odoo_seed`).
"""

from simulators.odoo_fields import FieldSpec, ModelSpec, char, m2o, model, sel

MESSAGE_TYPES = ("email", "comment", "notification", "user_notification", "auto_comment")

MAIL_MODELS: tuple[ModelSpec, ...] = (
    model(
        "mail.message",
        "Message",
        {
            "model": char("Related Document Model"),
            "res_id": FieldSpec("integer", "Related Document ID"),
            "body": FieldSpec("text", "Contents"),
            "subject": char("Subject"),
            "message_type": sel("Type", *MESSAGE_TYPES, required=True),
            "author_id": m2o("res.partner", "Author"),
            "date": FieldSpec("datetime", "Date"),
        },
        order="id desc",
        defaults={"message_type": "notification"},
    ),
    model(
        "mail.activity.type",
        "Activity Type",
        {"name": char("Name", required=True), "summary": char("Default Summary")},
    ),
    model(
        "mail.activity",
        "Activity",
        {
            "res_model": char("Related Document Model", required=True),
            "res_id": FieldSpec("integer", "Related Document ID"),
            "activity_type_id": m2o("mail.activity.type", "Activity Type"),
            "summary": char("Summary"),
            "note": FieldSpec("text", "Note"),
            "date_deadline": FieldSpec("date", "Due Date", required=True),
            "user_id": m2o("res.users", "Assigned to"),
        },
        order="date_deadline asc, id asc",
    ),
)
