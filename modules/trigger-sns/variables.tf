variable "create" {
  description = "Whether to create anything; false creates nothing and every output is null."
  type        = bool
  default     = true
}

variable "name" {
  description = "Name of the topic to create and prefix of the created dead-letter queue (<name>-dlq): 1-76 letters, digits, hyphens and underscores."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,76}$", var.name))
    error_message = "name must be 1-76 characters of letters, digits, '-' and '_' (the dead-letter queue appends -dlq, and queue names are at most 80 characters)."
  }
}

variable "create_topic" {
  description = "Whether to create the topic (default true); false subscribes the function to topic_arn."
  type        = bool
  default     = true
}

variable "topic_arn" {
  description = "ARN of the existing standard topic to subscribe to when create_topic is false; null (default) otherwise."
  type        = string
  default     = null

  validation {
    condition     = var.topic_arn == null || can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$", var.topic_arn))
    error_message = "topic_arn must be null or a standard SNS topic ARN (arn:<partition>:sns:<region>:<account>:<name>)."
  }
}

variable "kms_key_arn" {
  description = "ARN of a customer managed KMS key for the created topic; null (default) uses the AWS managed key alias/aws/sns."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be null or a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>)."
  }
}

variable "filter_policy" {
  description = "JSON filter policy of the subscription (at most 256 KB): only matching messages invoke the function; null (default) for every message."
  type        = string
  default     = null

  validation {
    condition     = var.filter_policy == null || (can(jsondecode(var.filter_policy)) && length(coalesce(var.filter_policy, "-")) <= 262144)
    error_message = "filter_policy must be null or a JSON object of at most 256 KB."
  }
}

variable "filter_policy_scope" {
  description = "What filter_policy matches: MessageAttributes (default) or MessageBody."
  type        = string
  default     = "MessageAttributes"

  validation {
    condition     = contains(["MessageAttributes", "MessageBody"], var.filter_policy_scope)
    error_message = "filter_policy_scope must be MessageAttributes or MessageBody."
  }
}

variable "function_name" {
  description = "Name of the function the topic invokes (1-64 letters, digits, hyphens or underscores); null only with create = false."
  type        = string

  validation {
    condition     = var.function_name == null || can(regex("^[A-Za-z0-9_-]{1,64}$", coalesce(var.function_name, "-")))
    error_message = "function_name must be 1-64 characters of letters, digits, '-' and '_'."
  }
}

variable "role_name" {
  description = "Name of the function's execution role, which gets sqs:SendMessage on the dead-letter queue (1-64 characters of letters, digits and +=,.@_-); null only with create = false."
  type        = string

  validation {
    condition     = var.role_name == null || can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", coalesce(var.role_name, "-")))
    error_message = "role_name must be an IAM role name: 1-64 characters of letters, digits and +=,.@_-."
  }
}

variable "maximum_retry_attempts" {
  description = "Times Lambda retries a failed invocation before the dead-letter queue, 0-2 (default 2)."
  type        = number
  default     = 2

  validation {
    condition     = contains([0, 1, 2], var.maximum_retry_attempts)
    error_message = "maximum_retry_attempts must be 0, 1 or 2."
  }
}

variable "maximum_event_age_in_seconds" {
  description = "Age after which Lambda stops retrying an event and sends it to the dead-letter queue, 60-21600 seconds (default 3600)."
  type        = number
  default     = 3600

  validation {
    condition     = var.maximum_event_age_in_seconds >= 60 && var.maximum_event_age_in_seconds <= 21600 && floor(var.maximum_event_age_in_seconds) == var.maximum_event_age_in_seconds
    error_message = "maximum_event_age_in_seconds must be a whole number between 60 and 21600."
  }
}

variable "create_dead_letter_queue" {
  description = "Whether to create the encrypted SQS queue <name>-dlq for both failure paths (default true); false uses dead_letter_queue_arn."
  type        = bool
  default     = true
}

variable "dead_letter_queue_arn" {
  description = "ARN of an existing SQS queue for both failure paths when create_dead_letter_queue is false (its policy must let the topic send); null (default) otherwise."
  type        = string
  default     = null

  validation {
    condition     = var.dead_letter_queue_arn == null || can(regex("^arn:aws[a-z-]*:sqs:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,80}$", var.dead_letter_queue_arn))
    error_message = "dead_letter_queue_arn must be null or a standard SQS queue ARN."
  }
}

variable "dead_letter_message_retention_seconds" {
  description = "Seconds the created dead-letter queue keeps a message, 60-1209600 (default 1209600, 14 days)."
  type        = number
  default     = 1209600

  validation {
    condition     = var.dead_letter_message_retention_seconds >= 60 && var.dead_letter_message_retention_seconds <= 1209600 && floor(var.dead_letter_message_retention_seconds) == var.dead_letter_message_retention_seconds
    error_message = "dead_letter_message_retention_seconds must be a whole number between 60 and 1209600."
  }
}

variable "tags" {
  description = "Tags for every resource of the module (map of up to 50 key-value strings)."
  type        = map(string)
  default     = {}

  validation {
    condition     = length(var.tags) <= 50
    error_message = "tags must have at most 50 entries, AWS's limit per resource."
  }
}

variable "dead_letter_queue_kms_key_arn" {
  description = "ARN of the customer managed KMS key that encrypts the given dead-letter queue, when create_dead_letter_queue is false; the function's role gets kms:GenerateDataKey and kms:Decrypt on it (Lambda encrypts what it sends with the role's rights), and the key's policy must let sns.amazonaws.com use it too; null (default) for a destination with SQS- or AWS-managed encryption."
  type        = string
  default     = null

  validation {
    condition     = var.dead_letter_queue_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.dead_letter_queue_kms_key_arn))
    error_message = "dead_letter_queue_kms_key_arn must be null or a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>)."
  }
}
