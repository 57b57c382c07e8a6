"""Stand the stack's AWS resources up from infra/template.yaml itself, in whatever AWS boto3 reaches (moto locally).

Queues (with their size limits and redrive policies), DynamoDB tables (keys, indexes, TTL), S3 buckets
(with their lifecycle rules) and secrets are
created from their template definitions, and each function's environment is resolved the
way CloudFormation would, so tests and local runs cannot drift from what `sam deploy`
creates. Only what socialdesk's template uses is supported; anything else is an error.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import boto3
import yaml

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path

SUPPORTED = ("AWS::SQS::Queue", "AWS::DynamoDB::Table", "AWS::SecretsManager::Secret", "AWS::S3::Bucket", "AWS::SNS::Topic")


class _CloudFormationLoader(yaml.SafeLoader):
    """Reads `!Ref X`, `!GetAtt X.Y`, `!Sub ...` and the other short forms as their long forms."""


def _intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CloudFormationLoader.add_multi_constructor("!", _intrinsic)


def load_template(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.load(path.read_text(encoding="utf-8"), Loader=_CloudFormationLoader)
    return loaded


class TemplateStack:
    def __init__(
        self, template_path: Path, *, stack_name: str = "socialdesk-local", region: str = "eu-west-1", parameters: Mapping[str, str] | None = None
    ) -> None:
        self.template_path = template_path
        self.template = load_template(template_path)
        self.stack_name = stack_name
        self.region = region
        self._parameters = {name: str(spec.get("Default", "")) for name, spec in self.template.get("Parameters", {}).items()}
        self._parameters.update(parameters or {})
        self._physical: dict[str, dict[str, str]] = {}

    @property
    def resources(self) -> dict[str, Any]:
        resources: dict[str, Any] = self.template["Resources"]
        return resources

    def provision(self) -> None:
        """Create every queue, table, bucket, topic and secret, dead-letter queues before the queues that redrive to them."""
        pending = [name for name, resource in self.resources.items() if resource["Type"] in SUPPORTED]
        while pending:
            ready = [
                name for name in pending if all(dependency in self._physical for dependency in self._dependencies(name) if dependency in pending)
            ]
            if not ready:
                raise ValueError(f"circular references between {pending}")
            for name in ready:
                self._create(name)
                pending.remove(name)

    def resolve(self, value: Any) -> Any:
        """A template value with its intrinsic functions worked out."""
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if "Ref" in value:
            return self._ref(value["Ref"])
        if "Fn::GetAtt" in value:
            logical, attribute = value["Fn::GetAtt"]
            return self._physical[logical][attribute]
        if "Fn::FindInMap" in value:
            mapping, key, name = (self.resolve(part) for part in value["Fn::FindInMap"])
            return self.template["Mappings"][mapping][key][name]
        if "Fn::Sub" in value:
            return re.sub(r"\$\{([^}]+)\}", lambda match: str(self._sub(match.group(1))), value["Fn::Sub"])
        return {key: self.resolve(item) for key, item in value.items()}

    @property
    def functions(self) -> list[str]:
        """The logical ids of every AWS::Serverless::Function."""
        return [logical_id for logical_id, resource in self.resources.items() if resource["Type"] == "AWS::Serverless::Function"]

    def function_events(self, *kinds: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """(function, event name, event properties) for every function event of the given types (SQS, HttpApi, Schedule, ...)."""
        for logical_id in self.functions:
            for name, event in self.resources[logical_id]["Properties"].get("Events", {}).items():
                if event["Type"] in kinds:
                    yield logical_id, name, event.get("Properties", {})

    def function_environment(self, logical_id: str) -> dict[str, str]:
        """The function's variables (Globals, then its own), with `/opt/...` paths mapped to the layer folders they come from."""
        global_variables = self.template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
        function = self.resources[logical_id]["Properties"]
        variables = {**global_variables, **function.get("Environment", {}).get("Variables", {})}
        resolved = {name: str(self.resolve(value)) for name, value in variables.items()}
        return {name: self._local_path(logical_id, value) for name, value in resolved.items()}

    def function_handler(self, logical_id: str) -> tuple[Path, str]:
        """The handler's file and function name, as the template declares them."""
        properties = self.resources[logical_id]["Properties"]
        module, function = str(properties["Handler"]).rsplit(".", 1)
        return (self.template_path.parent / properties["CodeUri"] / f"{module}.py").resolve(), function

    # --- resources ------------------------------------------------------------------------

    def _create(self, logical_id: str) -> None:
        resource = self.resources[logical_id]
        properties = self.resolve(resource.get("Properties", {}))
        name = f"{self.stack_name}-{logical_id}"
        if resource["Type"] == "AWS::SQS::Queue":
            self._physical[logical_id] = self._queue(name, properties)
        elif resource["Type"] == "AWS::DynamoDB::Table":
            self._physical[logical_id] = self._table(name, properties)
        elif resource["Type"] == "AWS::S3::Bucket":
            self._physical[logical_id] = self._bucket(name.lower(), properties)
        elif resource["Type"] == "AWS::SNS::Topic":
            self._physical[logical_id] = self._topic(name)
        else:
            self._physical[logical_id] = self._secret(name, properties)

    def _queue(self, name: str, properties: Mapping[str, Any]) -> dict[str, str]:
        sqs = boto3.client("sqs", region_name=self.region)
        attributes = {
            key: str(properties[key])
            for key in ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds", "MaximumMessageSize")
            if key in properties
        }
        if "RedrivePolicy" in properties:
            attributes["RedrivePolicy"] = json.dumps(properties["RedrivePolicy"])
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]  # type: ignore[arg-type]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return {"Ref": url, "Arn": arn, "QueueName": name, "QueueUrl": url}

    def _table(self, name: str, properties: Mapping[str, Any]) -> dict[str, str]:
        dynamodb = boto3.client("dynamodb", region_name=self.region)
        request: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": properties["AttributeDefinitions"],
            "KeySchema": properties["KeySchema"],
            "BillingMode": properties.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if "GlobalSecondaryIndexes" in properties:
            request["GlobalSecondaryIndexes"] = properties["GlobalSecondaryIndexes"]
        arn = dynamodb.create_table(**request)["TableDescription"]["TableArn"]
        if ttl := properties.get("TimeToLiveSpecification"):
            dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        return {"Ref": name, "Arn": arn}

    def _bucket(self, name: str, properties: Mapping[str, Any]) -> dict[str, str]:
        s3 = boto3.client("s3", region_name=self.region)
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": self.region})  # type: ignore[typeddict-item]
        if lifecycle := properties.get("LifecycleConfiguration"):
            rules = [
                {"ID": rule["Id"], "Status": rule["Status"], "Filter": {"Prefix": ""}, "Expiration": {"Days": int(rule["ExpirationInDays"])}}
                for rule in lifecycle["Rules"]
                if "ExpirationInDays" in rule
            ]
            s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": rules})  # type: ignore[typeddict-item]
        return {"Ref": name, "Arn": f"arn:aws:s3:::{name}"}

    def _topic(self, name: str) -> dict[str, str]:
        """A plain topic (its encryption key is not modelled here): `Ref` is its ARN, as in CloudFormation."""
        arn = boto3.client("sns", region_name=self.region).create_topic(Name=name)["TopicArn"]
        return {"Ref": arn, "TopicArn": arn, "TopicName": name}

    def _secret(self, name: str, properties: Mapping[str, Any]) -> dict[str, str]:
        secrets = boto3.client("secretsmanager", region_name=self.region)
        value = properties.get("SecretString")
        # Without it CloudFormation creates a secret without any value, and so does this (GenerateSecretString is not
        # supported: the template must never own a secret's value).
        arn = secrets.create_secret(Name=name, **({} if value is None else {"SecretString": value}))["ARN"]
        return {"Ref": arn, "Arn": arn}

    # --- intrinsics ---------------------------------------------------------------------

    def _ref(self, name: str) -> str:
        pseudo = {"AWS::StackName": self.stack_name, "AWS::Region": self.region, "AWS::URLSuffix": "amazonaws.com", "AWS::AccountId": "123456789012"}
        if name in pseudo:
            return pseudo[name]
        if name in self._parameters:
            return self._parameters[name]
        if name in self._physical:
            return self._physical[name]["Ref"]
        if name in self.resources:
            return f"{self.stack_name}-{name}"  # functions, layers, APIs: their names
        raise KeyError(f"!Ref {name}: no such parameter or resource")

    def _sub(self, expression: str) -> str:
        if "." in expression and not expression.startswith("AWS::"):
            logical, attribute = expression.split(".", 1)
            return self._physical[logical][attribute]
        return self._ref(expression)

    def _dependencies(self, logical_id: str) -> set[str]:
        found: set[str] = set()

        def walk(value: Any) -> None:
            if isinstance(value, dict):
                if "Ref" in value:
                    found.add(str(value["Ref"]))
                elif "Fn::GetAtt" in value:
                    found.add(str(value["Fn::GetAtt"][0]))
                for item in value.values():
                    walk(item)
            elif isinstance(value, list):
                for item in value:
                    walk(item)

        walk(self.resources[logical_id].get("Properties", {}))
        return found

    def _local_path(self, function: str, value: str) -> str:
        """`/opt/<file>` served by one of the function's plain (unbuilt) layers is that layer's folder here."""
        if not value.startswith("/opt/"):
            return value
        layers = self.resources[function]["Properties"].get("Layers", [])
        for layer in layers:
            logical = layer.get("Ref") if isinstance(layer, dict) else None
            resource = self.resources.get(str(logical), {})
            if resource.get("Type") == "AWS::Serverless::LayerVersion" and "Metadata" not in resource:
                candidate = (self.template_path.parent / resource["Properties"]["ContentUri"] / value.removeprefix("/opt/")).resolve()
                if candidate.exists():
                    return str(candidate)
        return value
