variable "create" {
  description = "Whether to create anything; false creates nothing and every output is null."
  type        = bool
  default     = true
}

variable "name" {
  description = "Name of the rule and prefix of the created dead-letter queue (<name>-dlq): 1-64 letters, digits, hyphens and underscores."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.name))
    error_message = "name must be 1-64 characters of letters, digits, '-' and '_'."
  }
}

variable "description" {
  description = "Description of the rule (0-512 characters)."
  type        = string
  default     = "Invokes the function for matching events."

  validation {
    condition     = length(var.description) <= 512
    error_message = "description must be at most 512 characters."
  }
}

variable "event_bus_name" {
  description = "Name of the existing event bus the rule listens on: default (the account's default bus) or a custom bus's name (1-256 characters)."
  type        = string
  default     = "default"

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]{1,256}$", var.event_bus_name))
    error_message = "event_bus_name must be default or a custom bus name of 1-256 letters, digits, '.', '-' and '_'."
  }
}

variable "event_pattern" {
  description = "JSON event pattern the rule matches; the default matches EC2 instances entering the stopped state."
  type        = string
  default     = "{\"source\":[\"aws.ec2\"],\"detail-type\":[\"EC2 Instance State-change Notification\"],\"detail\":{\"state\":[\"stopped\"]}}"

  validation {
    condition     = can(keys(jsondecode(var.event_pattern))) && length(var.event_pattern) <= 4096
    error_message = "event_pattern must be a JSON object of at most 4096 characters."
  }
}

variable "enabled" {
  description = "Whether the rule is enabled (default true)."
  type        = bool
  default     = true
}

variable "function_name" {
  description = "Name of the function the rule invokes (1-64 letters, digits, hyphens or underscores); null only with create = false."
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

variable "target_maximum_retry_attempts" {
  description = "Times EventBridge retries delivering an event to the function before the dead-letter queue, 0-185 (default 185)."
  type        = number
  default     = 185

  validation {
    condition     = var.target_maximum_retry_attempts >= 0 && var.target_maximum_retry_attempts <= 185 && floor(var.target_maximum_retry_attempts) == var.target_maximum_retry_attempts
    error_message = "target_maximum_retry_attempts must be a whole number between 0 and 185."
  }
}

variable "target_maximum_event_age_in_seconds" {
  description = "Age after which EventBridge stops trying to deliver an event and sends it to the dead-letter queue, 60-86400 seconds (default 86400)."
  type        = number
  default     = 86400

  validation {
    condition     = var.target_maximum_event_age_in_seconds >= 60 && var.target_maximum_event_age_in_seconds <= 86400 && floor(var.target_maximum_event_age_in_seconds) == var.target_maximum_event_age_in_seconds
    error_message = "target_maximum_event_age_in_seconds must be a whole number between 60 and 86400."
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
  description = "ARN of an existing SQS queue for both failure paths when create_dead_letter_queue is false (its policy must let the rule send); null (default) otherwise."
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
  description = "ARN of the customer managed KMS key that encrypts the given dead-letter queue, when create_dead_letter_queue is false; the function's role gets kms:GenerateDataKey and kms:Decrypt on it (Lambda encrypts what it sends with the role's rights), and the key's policy must let events.amazonaws.com use it too; null (default) for a destination with SQS- or AWS-managed encryption."
  type        = string
  default     = null

  validation {
    condition     = var.dead_letter_queue_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.dead_letter_queue_kms_key_arn))
    error_message = "dead_letter_queue_kms_key_arn must be null or a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>)."
  }
}
