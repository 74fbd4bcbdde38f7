output "idempotency_table_name" {
  description = "Name of the idempotency table shared by every function of the stack."
  value       = module.idempotency_table.name
}

output "idempotency_table_arn" {
  description = "ARN of the idempotency table."
  value       = module.idempotency_table.arn
}

output "inbox_function_name" {
  description = "Name of the directly invoked inbox function."
  value       = module.inbox_function.function_name
}

output "inbox_function_arn" {
  description = "ARN of the directly invoked inbox function."
  value       = module.inbox_function.function_arn
}

output "inbox_role_name" {
  description = "Name of the inbox function's execution role."
  value       = module.inbox_function.role_name
}

output "profiles_table_name" {
  description = "Name of the profiles table (key user_id), written from SQS and audited from its stream; null when both triggers are off."
  value       = module.profiles_table.name
}

output "counters_table_name" {
  description = "Name of the activity counters table (keys user_id and type), written from Kinesis; null when that trigger is off."
  value       = module.counters_table.name
}

output "audit_table_name" {
  description = "Name of the profile audit table (key id, the stream record's eventID); null when the DynamoDB Streams trigger is off."
  value       = module.audit_table.name
}

output "sqs_function_name" {
  description = "Name of the function that the SQS queue triggers; null when that trigger is off."
  value       = module.trigger_function["sqs"].function_name
}

output "sqs_queue_url" {
  description = "URL of the profile updates queue; null when the SQS trigger is off."
  value       = module.sqs_trigger.queue_url
}

output "sqs_queue_arn" {
  description = "ARN of the profile updates queue; null when the SQS trigger is off."
  value       = module.sqs_trigger.queue_arn
}

output "sqs_dead_letter_queue_url" {
  description = "URL of the queue's dead-letter queue, the SQS trigger's failure destination; null when that trigger is off."
  value       = module.sqs_trigger.dead_letter_queue_url
}

output "sqs_dead_letter_queue_arn" {
  description = "ARN of the queue's dead-letter queue; null when the SQS trigger is off."
  value       = module.sqs_trigger.dead_letter_queue_arn
}

output "kinesis_function_name" {
  description = "Name of the function that the Kinesis stream triggers; null when that trigger is off."
  value       = module.trigger_function["kinesis"].function_name
}

output "kinesis_stream_name" {
  description = "Name of the activity stream; null when the Kinesis trigger is off."
  value       = module.kinesis_trigger.stream_name
}

output "kinesis_stream_arn" {
  description = "ARN of the activity stream; null when the Kinesis trigger is off."
  value       = module.kinesis_trigger.stream_arn
}

output "kinesis_failure_queue_url" {
  description = "URL of the queue that receives the batches the Kinesis trigger gave up on; null when that trigger is off."
  value       = module.kinesis_trigger.on_failure_queue_url
}

output "kinesis_failure_destination_arn" {
  description = "ARN of the Kinesis trigger's on-failure destination queue; null when that trigger is off."
  value       = module.kinesis_trigger.on_failure_destination_arn
}

output "dynamodb_stream_function_name" {
  description = "Name of the function that the profiles table's stream triggers; null when that trigger is off."
  value       = module.trigger_function["dynamodb_stream"].function_name
}

output "dynamodb_stream_table_name" {
  description = "Name of the table whose stream is consumed (the profiles table); null when the DynamoDB Streams trigger is off."
  value       = var.triggers.dynamodb_stream ? module.profiles_table.name : null
}

output "dynamodb_stream_arn" {
  description = "ARN of the profiles table's stream (known after apply); null when the DynamoDB Streams trigger is off."
  value       = module.dynamodb_stream_trigger.stream_arn
}

output "dynamodb_stream_failure_queue_url" {
  description = "URL of the queue that receives the batches the DynamoDB Streams trigger gave up on; null when that trigger is off."
  value       = module.dynamodb_stream_trigger.on_failure_queue_url
}

output "dynamodb_stream_failure_destination_arn" {
  description = "ARN of the DynamoDB Streams trigger's on-failure destination queue; null when that trigger is off."
  value       = module.dynamodb_stream_trigger.on_failure_destination_arn
}

output "instance_states_table_name" {
  description = "Name of the instance states table (keys instance_id and changed_at), written from EventBridge; null when that trigger is off."
  value       = module.instance_states_table.name
}

output "api_gateway_function_name" {
  description = "Name of the function behind the profiles API; null when the API Gateway trigger is off."
  value       = module.trigger_function["api_gateway"].function_name
}

output "api_gateway_url" {
  description = "URL of the profiles API (POST /profiles, GET /profiles/{user_id}), known after apply; null when the API Gateway trigger is off."
  value       = module.api_gateway_trigger.url
}

output "api_gateway_api_id" {
  description = "Id of the profiles HTTP API, known after apply; null when the API Gateway trigger is off."
  value       = module.api_gateway_trigger.api_id
}

output "api_gateway_authorization_type" {
  description = "How the profiles API authorizes callers (AWS_IAM, JWT or NONE); null when the API Gateway trigger is off."
  value       = module.api_gateway_trigger.authorization_type
}

output "s3_function_name" {
  description = "Name of the function that the uploads bucket notifies; null when the S3 trigger is off."
  value       = module.trigger_function["s3"].function_name
}

output "s3_bucket_name" {
  description = "Name of the profile uploads bucket (upload profiles/<anything>.json); null when the S3 trigger is off."
  value       = module.s3_trigger.bucket_name
}

output "s3_bucket_arn" {
  description = "ARN of the profile uploads bucket; null when the S3 trigger is off."
  value       = module.s3_trigger.bucket_arn
}

output "s3_failure_queue_url" {
  description = "URL of the queue that receives the S3 events Lambda gave up on; null when the S3 trigger is off."
  value       = module.s3_trigger.on_failure_queue_url
}

output "s3_failure_destination_arn" {
  description = "ARN of the S3 trigger's on-failure destination queue; null when that trigger is off."
  value       = module.s3_trigger.on_failure_destination_arn
}

output "sns_function_name" {
  description = "Name of the function subscribed to the profile events topic; null when the SNS trigger is off."
  value       = module.trigger_function["sns"].function_name
}

output "sns_topic_arn" {
  description = "ARN of the profile events topic; null when the SNS trigger is off."
  value       = module.sns_trigger.topic_arn
}

output "sns_dead_letter_queue_url" {
  description = "URL of the SNS trigger's dead-letter queue (undeliverable messages and failed invocations); null when that trigger is off."
  value       = module.sns_trigger.dead_letter_queue_url
}

output "sns_dead_letter_queue_arn" {
  description = "ARN of the SNS trigger's dead-letter queue; null when that trigger is off."
  value       = module.sns_trigger.dead_letter_queue_arn
}

output "eventbridge_function_name" {
  description = "Name of the function the instance-stopped rule invokes; null when the EventBridge trigger is off."
  value       = module.trigger_function["eventbridge"].function_name
}

output "eventbridge_rule_name" {
  description = "Name of the EventBridge rule; null when the EventBridge trigger is off."
  value       = module.eventbridge_trigger.rule_name
}

output "eventbridge_rule_arn" {
  description = "ARN of the EventBridge rule; null when the EventBridge trigger is off."
  value       = module.eventbridge_trigger.rule_arn
}

output "eventbridge_bus_name" {
  description = "Name of the event bus the rule listens on; null when the EventBridge trigger is off."
  value       = module.eventbridge_trigger.event_bus_name
}

output "eventbridge_dead_letter_queue_url" {
  description = "URL of the EventBridge trigger's dead-letter queue (undeliverable events and failed invocations); null when that trigger is off."
  value       = module.eventbridge_trigger.dead_letter_queue_url
}

output "eventbridge_dead_letter_queue_arn" {
  description = "ARN of the EventBridge trigger's dead-letter queue; null when that trigger is off."
  value       = module.eventbridge_trigger.dead_letter_queue_arn
}
