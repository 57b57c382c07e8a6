"""Security and alarm properties of infra/template.yaml, read with the project's template reader, so a regression fails CI.

What SAM generates was checked with its translator (samtranslator, the SAM CLI's own): a function with an
explicit `Role` gets no generated role, so none of AWSLambdaBasicExecutionRole, AWSXrayWriteOnlyAccess or
AWSLambdaSQSQueueExecutionRole (each on every resource of its service) is attached to anything.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from socialdesk.devtools.local_aws import TEMPLATE
from socialdesk.devtools.template_stack import load_template
from tests.support.iam import statements

STATE_TABLE_ACTIONS = {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query"}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(TEMPLATE)


def resources(template: dict[str, Any], kind: str) -> dict[str, Any]:
    return {name: resource for name, resource in template["Resources"].items() if resource["Type"] == kind}


def listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def role_statements(template: dict[str, Any], *, true_conditions: frozenset[str] = frozenset()) -> list[tuple[str, dict[str, Any]]]:
    return [
        (name, statement)
        for name, role in resources(template, "AWS::IAM::Role").items()
        for statement in statements(role, true_conditions=true_conditions)
    ]


def test_every_function_has_its_own_role_so_sam_attaches_no_managed_policy(template: dict[str, Any]) -> None:
    functions = resources(template, "AWS::Serverless::Function")
    assert functions
    for name, function in functions.items():
        assert "Policies" not in function["Properties"], f"{name}: SAM would generate a role with managed policies"
        role = function["Properties"]["Role"]
        assert role == {"Fn::GetAtt": [role["Fn::GetAtt"][0], "Arn"]}
        assert template["Resources"][role["Fn::GetAtt"][0]]["Type"] == "AWS::IAM::Role"
    assert "Role" not in template.get("Globals", {}).get("Function", {})


def test_no_role_carries_an_aws_managed_policy(template: dict[str, Any]) -> None:
    for name, role in resources(template, "AWS::IAM::Role").items():
        assert "ManagedPolicyArns" not in role["Properties"], name
        assert "PermissionsBoundary" not in role["Properties"], name


def test_every_statement_names_its_actions_and_resources(template: dict[str, Any]) -> None:
    # Given the roles as deployed by default (ComprehendSentiment=false)
    granted = role_statements(template)
    assert granted
    # Then no statement grants a wildcard action or resource
    for role, statement in granted:
        assert statement["Effect"] == "Allow"
        assert all("*" not in action for action in listed(statement["Action"])), (role, statement)
        assert "*" not in listed(statement["Resource"]), (role, statement)


def test_comprehend_sentiment_adds_only_detect_sentiment_to_the_process_role(template: dict[str, Any]) -> None:
    # Given the stack deployed with ComprehendSentiment=true (rules with classification.sentiment = "comprehend")
    default = role_statements(template)
    with_comprehend = role_statements(template, true_conditions=frozenset({"UsesComprehend"}))
    # Then the one statement it adds is DetectSentiment for the process function, the only action IAM takes on "*" alone
    added = [(role, statement) for role, statement in with_comprehend if (role, statement) not in default]
    assert [(role, statement["Action"], statement["Resource"]) for role, statement in added] == [("ProcessRole", "comprehend:DetectSentiment", "*")]
    assert template["Parameters"]["ComprehendSentiment"]["Default"] == "false"


def test_no_function_turns_on_tracing_that_no_code_writes_to(template: dict[str, Any]) -> None:
    # Active tracing without the X-Ray SDK records only Lambda's own segment, and needs X-Ray writes on "*".
    functions = resources(template, "AWS::Serverless::Function")
    assert "Tracing" not in template["Globals"]["Function"]
    assert all("Tracing" not in function["Properties"] for function in functions.values())
    assert not any(action.startswith("xray:") for _, statement in role_statements(template) for action in listed(statement["Action"]))


def test_each_function_writes_only_its_own_log_group(template: dict[str, Any]) -> None:
    for role, statement in role_statements(template):
        if any(action.startswith("logs:") for action in listed(statement["Action"])):
            assert set(statement["Action"]) == {"logs:CreateLogStream", "logs:PutLogEvents"}
            assert statement["Resource"] == {"Fn::GetAtt": [role.removesuffix("Role") + "LogGroup", "Arn"]}


def test_dynamodb_access_is_item_reads_writes_and_queries_on_the_state_table_only_and_no_index(template: dict[str, Any]) -> None:
    # Given the template's role statements
    dynamodb = [(role, s) for role, s in role_statements(template) if any(a.startswith("dynamodb:") for a in listed(s["Action"]))]
    # Then the process and sla_check roles read and query DynamoDB: item reads, writes and key queries on the state table
    # itself (sla_check: its due index is items of that table, not a secondary index)
    assert sorted(role for role, _ in dynamodb) == ["DeskEventsRole", "OutboundRole", "ProcessRole", "SlaCheckRole"]
    by_role = dict(dynamodb)
    assert set(listed(by_role["ProcessRole"]["Action"])) == STATE_TABLE_ACTIONS
    assert set(listed(by_role["SlaCheckRole"]["Action"])) == STATE_TABLE_ACTIONS
    # And the outbound role writes its send ledger's items (UpdateItem) and records an accepted agent reply as the
    # conversation's answer (its time put, the conversation read, queried when out of order, the clock's due entry
    # moved): item calls and key queries, nothing else
    assert set(listed(by_role["OutboundRole"]["Action"])) == STATE_TABLE_ACTIONS
    # And desk_events claims each Zendesk event (UpdateItem), reads the ticket's conversation (GetItem) and moves the
    # response clock of a solved or reopened ticket (its due entry put or deleted): no Query
    assert set(listed(by_role["DeskEventsRole"]["Action"])) == STATE_TABLE_ACTIONS - {"dynamodb:Query"}
    for statement in by_role.values():
        assert statement["Resource"] == {"Fn::GetAtt": ["StateTable", "Arn"]}
    # And no index of it, as the table has none to grant
    table = template["Resources"]["StateTable"]["Properties"]
    assert "GlobalSecondaryIndexes" not in table
    assert "LocalSecondaryIndexes" not in table


def test_queue_and_secret_grants_are_exactly_what_each_function_uses(template: dict[str, Any]) -> None:
    grants: dict[str, set[tuple[str, str]]] = {}
    for role, statement in role_statements(template):
        for action in listed(statement["Action"]):
            if action.split(":")[0] in ("sqs", "secretsmanager"):
                for resource in listed(statement["Resource"]):
                    target = resource.get("Ref") or resource["Fn::GetAtt"][0]
                    grants.setdefault(role, set()).add((action, target))
    assert grants["IngestRole"] == {
        ("sqs:SendMessage", "InboundQueue"),
        ("sqs:SendMessage", "QuarantineQueue"),
        ("secretsmanager:GetSecretValue", "WebhookSecret"),
    }
    consume = {
        (action, "InboundQueue") for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes")
    }
    assert grants["ProcessRole"] == consume | {
        ("sqs:SendMessage", "InboundQueue"),
        ("sqs:SendMessage", "InboundDeadLetterQueue"),
        ("sqs:SendMessage", "OutboundQueue"),
        ("secretsmanager:GetSecretValue", "CrmSecret"),
        ("secretsmanager:GetSecretValue", "PlatformSecret"),  # the Instagram token: a mention's words are fetched
    }
    consume_outbound = {
        (action, "OutboundQueue") for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes")
    }
    # The outbound function reads the platform tokens and the Zendesk credentials (its notes), nothing of ingest's
    assert grants["OutboundRole"] == consume_outbound | {
        ("sqs:SendMessage", "OutboundQueue"),
        ("sqs:SendMessage", "OutboundDeadLetterQueue"),
        ("secretsmanager:GetSecretValue", "PlatformSecret"),
        ("secretsmanager:GetSecretValue", "CrmSecret"),
    }
    # desk_events reads the Zendesk signing secret and queues agent replies, nothing else
    assert grants["DeskEventsRole"] == {("sqs:SendMessage", "OutboundQueue"), ("secretsmanager:GetSecretValue", "ZendeskWebhookSecret")}


def test_alarm_topic_key_lets_cloudwatch_encrypt_notifications_and_the_account_manage_it(template: dict[str, Any]) -> None:
    topic = template["Resources"]["AlarmTopic"]["Properties"]
    key_name = topic["KmsMasterKeyId"]["Ref"]
    key = template["Resources"][key_name]
    assert key["Type"] == "AWS::KMS::Key"
    assert key["Properties"]["EnableKeyRotation"] is True
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    cloudwatch = [s for s in statements if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}]
    assert [set(s["Action"]) for s in cloudwatch] == [{"kms:Decrypt", "kms:GenerateDataKey*"}]
    root = [s for s in statements if s["Principal"] == {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}]
    assert [s["Action"] for s in root] == ["kms:*"]


def test_only_this_accounts_cloudwatch_alarms_may_publish_to_the_alarm_topic(template: dict[str, Any]) -> None:
    [policy] = resources(template, "AWS::SNS::TopicPolicy").values()
    assert policy["Properties"]["Topics"] == [{"Ref": "AlarmTopic"}]
    [statement] = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert statement["Action"] == "sns:Publish"
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}


@pytest.mark.parametrize(("queue", "alarm"), [("InboundQueue", "InboundDeadLetterAlarm"), ("OutboundQueue", "OutboundDeadLetterAlarm")])
def test_dead_letter_alarm_text_states_the_queues_real_receive_count(template: dict[str, Any], queue: str, alarm: str) -> None:
    redrive = template["Resources"][queue]["Properties"]["RedrivePolicy"]["maxReceiveCount"]
    text, variables = template["Resources"][alarm]["Properties"]["AlarmDescription"]["Fn::Sub"]
    assert variables["MaxReceiveCount"] == redrive
    mapping, key, name = redrive["Fn::FindInMap"]
    count = template["Mappings"][mapping][key][name]
    assert count >= 5  # throttled retries must not dead-letter early
    assert re.findall(r"\d+ times|\$\{MaxReceiveCount\} times", text) == ["${MaxReceiveCount} times"]


def test_an_alarm_watches_the_age_of_the_oldest_inbound_event(template: dict[str, Any]) -> None:
    [alarm] = [
        a["Properties"]
        for a in resources(template, "AWS::CloudWatch::Alarm").values()
        if a["Properties"]["MetricName"] == "ApproximateAgeOfOldestMessage"
    ]
    assert alarm["Namespace"] == "AWS/SQS"
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["InboundQueue", "QueueName"]}}]
    # Above the longest ordinary wait (backoffs of minutes, a 15-minute Salesforce pause), below the 4-hour dead-lettering.
    assert 45 * 60 < alarm["Threshold"] < 4 * 3600
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_every_alarm_notifies_the_alarm_topic(template: dict[str, Any]) -> None:
    for name, alarm in resources(template, "AWS::CloudWatch::Alarm").items():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}], name


@pytest.mark.parametrize("secret", ["CrmSecret", "WebhookSecret", "PlatformSecret"])
def test_the_template_never_owns_a_secrets_value(template: dict[str, Any], secret: str) -> None:
    # Either property would write a new AWSCURRENT version whenever it is edited, replacing the live credentials.
    properties = template["Resources"][secret]["Properties"]
    assert "SecretString" not in properties
    assert "GenerateSecretString" not in properties


@pytest.mark.parametrize(
    ("function", "queue", "concurrency"),
    [("ProcessFunction", "InboundQueue", "ProcessMaxConcurrency"), ("OutboundFunction", "OutboundQueue", "OutboundMaxConcurrency")],
)
def test_each_queue_hides_a_message_for_six_function_timeouts_and_its_consumer_is_bounded(
    template: dict[str, Any], function: str, queue: str, concurrency: str
) -> None:
    # Given a queue-driven function (AWS: a visibility timeout of at least 6 x the function timeout for SQS event sources)
    properties = template["Resources"][function]["Properties"]
    [source] = properties["Events"].values()
    # Then its queue keeps a message hidden for 6 of its timeouts, it reports partial failures, and its concurrency is capped
    assert template["Resources"][queue]["Properties"]["VisibilityTimeout"] >= 6 * properties["Timeout"]
    assert source["Properties"]["Queue"] == {"Fn::GetAtt": [queue, "Arn"]}
    assert source["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert source["Properties"]["ScalingConfig"] == {"MaximumConcurrency": {"Ref": concurrency}}


def test_outbound_concurrency_defaults_to_two_and_a_refused_token_raises_the_connection_health_alarm(template: dict[str, Any]) -> None:
    assert template["Parameters"]["OutboundMaxConcurrency"]["Default"] == 2
    alarm = template["Resources"]["ConnectionHealthAlarm"]["Properties"]
    # The metric outbound/send_job.py counts on every refused or missing token
    from socialdesk.observability import TOKEN_REJECTED_METRIC

    assert (alarm["Namespace"], alarm["MetricName"], alarm["Threshold"]) == ("Socialdesk", TOKEN_REJECTED_METRIC, 0)


def test_the_state_tables_continuous_backups_are_on_unless_the_deployer_turns_them_off(template: dict[str, Any]) -> None:
    """Given the template as shipped, Then PointInTimeRecovery defaults to "true", and the state table's point-in-time
    recovery follows that parameter alone (docs/benchmarks.md prices both settings)."""
    assert template["Parameters"]["PointInTimeRecovery"]["Default"] == "true"
    assert template["Conditions"]["KeepsContinuousBackups"] == {"Fn::Equals": [{"Ref": "PointInTimeRecovery"}, "true"]}
    table = template["Resources"]["StateTable"]["Properties"]
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": {"Fn::If": ["KeepsContinuousBackups", True, False]}}


def test_the_inbound_batching_window_is_off_unless_the_deployer_trades_latency_for_fuller_batches(template: dict[str, Any]) -> None:
    """Given the template as shipped, Then the inbound event source invokes at once (InboundBatchingWindowSeconds 0), and
    its batching window is that parameter's, within SQS's allowed range (docs/benchmarks.md prices fuller batches)."""
    parameter = template["Parameters"]["InboundBatchingWindowSeconds"]
    assert (parameter["Default"], parameter["MinValue"], parameter["MaxValue"]) == (0, 0, 20)
    inbound = template["Resources"]["ProcessFunction"]["Properties"]["Events"]["Inbound"]["Properties"]
    assert inbound["MaximumBatchingWindowInSeconds"] == {"Ref": "InboundBatchingWindowSeconds"}
