"""POST /v1/authz/check reads a well-formed question without building its serializers
(identity.api.me.well_formed_question): whatever it takes must be exactly what the serializer
validates, to the same values, and whatever else goes to the serializer, which words the errors."""

import uuid

import pytest

from core.api.strictness import type_errors, unknown_fields
from identity.api.me import ProductAuthzCheckSerializer, well_formed_question
from identity.api.serializers import AuthzCheckSerializer

USER_ID = str(uuid.uuid4())
KEYS = ["erp.vehicles.read", "users.create"]

QUESTIONS = [
    {"tool_actions": KEYS},
    {"tool_actions": ["a.b"] * 200},
    {"tool_actions": ["a." + "b" * 148]},
    {"subject": {"user_id": USER_ID}, "tool_actions": KEYS},
    {"subject": {"user_id": USER_ID.replace("-", "").upper()}, "tool_actions": KEYS},
    {"subject": {"user_id": "{" + USER_ID + "}"}, "tool_actions": KEYS},
]
REFUSED = [
    None, [], "x", {}, {"tool_actions": []}, {"tool_actions": ["a.b"] * 201}, {"tool_actions": ["a." + "b" * 149]},
    {"tool_actions": "erp.vehicles.read"}, {"tool_actions": [0]}, {"tool_actions": [True]}, {"tool_actions": [None]},
    {"tool_actions": ["users"]}, {"tool_actions": [" users.read"]}, {"tool_actions": ["users.read\n"]},
    {"tool_actions": ["Users.read"]}, {"tool_actions": ["users.read\x00"]}, {"tool_actions": KEYS, "extra": 1},
    {"tool_actions": KEYS, "tenant_id": USER_ID}, {"subject": None, "tool_actions": KEYS},
    {"subject": {}, "tool_actions": KEYS}, {"subject": {"user_id": USER_ID, "x": 1}, "tool_actions": KEYS},
    {"subject": {"user_id": "nope"}, "tool_actions": KEYS}, {"subject": {"user_id": 5}, "tool_actions": KEYS},
    {"subject": {"user_id": None}, "tool_actions": KEYS}, {"subject": [USER_ID], "tool_actions": KEYS},
    {"subject": {"user_id": USER_ID}}, {"subject": {"user_id": USER_ID}, "tool_actions": ["x"]},
]


@pytest.mark.parametrize("product, serializer_class", [(False, AuthzCheckSerializer),
                                                        (True, ProductAuthzCheckSerializer)])
@pytest.mark.parametrize("body", QUESTIONS + REFUSED)
def test_a_question_read_directly_is_one_the_serializer_validates_alike(body, product, serializer_class):
    answer = well_formed_question(body, product=product)
    if answer is not None:
        serializer = serializer_class(data=body)  # as core.api.views.validated checks it
        assert not unknown_fields(serializer, body) and not type_errors(serializer, body)
        assert serializer.is_valid(), serializer.errors
        assert answer == serializer.validated_data
    if body in QUESTIONS and product == ("subject" in body):
        assert answer is not None, "a well-formed question went the slow way"
