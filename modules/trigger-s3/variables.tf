variable "create" {
  description = "Whether to create anything; false creates nothing and every output is null."
  type        = bool
  default     = true
}

variable "name" {
  description = "Name of the trigger, used for the notification id, the permission and the created failure queue (<name>-failures): 1-71 letters, digits, hyphens and underscores."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,71}$", var.name))
    error_message = "name must be 1-71 characters of letters, digits, '-' and '_' (the failure queue appends -failures)."
  }
}

variable "create_bucket" {
  description = "Whether to create the bucket bucket_name (default true); false wires the existing bucket of that name: with delivery = \"notification\" this REPLACES its whole notification configuration (S3's PutBucketNotificationConfiguration keeps one per bucket), so any other notification on it is lost; with delivery = \"eventbridge\" it is left untouched."
  type        = bool
  default     = true
}

variable "delivery" {
  description = "How the bucket's events reach the function: \"notification\" (default), the bucket's own notification configuration, or \"eventbridge\", a rule on the default event bus, for a bucket whose notifications belong to others; an existing bucket then needs EventBridge notifications on (eventbridge = true in its aws_s3_bucket_notification), which the module turns on for a bucket it creates."
  type        = string
  default     = "notification"

  validation {
    condition     = contains(["notification", "eventbridge"], var.delivery)
    error_message = "delivery must be \"notification\" or \"eventbridge\"."
  }
}

variable "bucket_name" {
  description = "Name of the bucket to create or to wire: 3-63 lowercase letters, digits, dots and hyphens, globally unique when created."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be 3-63 characters of lowercase letters, digits, '.' and '-', starting and ending with a letter or digit."
  }
}

variable "force_destroy" {
  description = "Whether destroying the created bucket deletes its objects too (default false: a bucket with objects cannot be destroyed)."
  type        = bool
  default     = false
}

variable "kms_key_arn" {
  description = "ARN of a customer managed KMS key for the created bucket's SSE-KMS (granted kms:Decrypt); null (default) uses the AWS managed key aws/s3."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be null or a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>)."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days the created bucket keeps an object's noncurrent versions, 1-3650 (default 30)."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1 && var.noncurrent_version_expiration_days <= 3650 && floor(var.noncurrent_version_expiration_days) == var.noncurrent_version_expiration_days
    error_message = "noncurrent_version_expiration_days must be a whole number between 1 and 3650."
  }
}

variable "events" {
  description = "S3 event types that invoke the function (1 or more, each starting with s3:); default [\"s3:ObjectCreated:*\"]; with delivery = \"eventbridge\" each selects its EventBridge detail-type (s3:ObjectCreated:Put selects every \"Object Created\", s3:ObjectRemoved:* lifecycle expirations too), and s3:ReducedRedundancyLostObject and s3:Replication:* are refused: S3 does not send them to EventBridge."
  type        = list(string)
  default     = ["s3:ObjectCreated:*"]

  validation {
    condition     = length(var.events) > 0 && alltrue([for e in var.events : can(regex("^s3:[A-Za-z]+(:[A-Za-z*]+)?$", e))])
    error_message = "events must list at least one S3 event type, e.g. s3:ObjectCreated:* or s3:ObjectCreated:Put."
  }
}

variable "filter_prefix" {
  description = "Only objects whose key starts with this (0-1024 characters) invoke the function, and only they are readable by it; null (default) for every key."
  type        = string
  default     = null

  validation {
    condition     = var.filter_prefix == null || length(coalesce(var.filter_prefix, "-")) <= 1024
    error_message = "filter_prefix must be null or at most 1024 characters."
  }
}

variable "filter_suffix" {
  description = "Only objects whose key ends with this (0-1024 characters, e.g. .json) invoke the function; null (default) for every key."
  type        = string
  default     = null

  validation {
    condition     = var.filter_suffix == null || length(coalesce(var.filter_suffix, "-")) <= 1024
    error_message = "filter_suffix must be null or at most 1024 characters."
  }
}

variable "function_name" {
  description = "Name of the function the bucket notifies (1-64 letters, digits, hyphens or underscores); null only with create = false."
  type        = string

  validation {
    condition     = var.function_name == null || can(regex("^[A-Za-z0-9_-]{1,64}$", coalesce(var.function_name, "-")))
    error_message = "function_name must be 1-64 characters of letters, digits, '-' and '_'."
  }
}

variable "role_name" {
  description = "Name of the function's execution role, which gets the object read and destination permissions (1-64 characters of letters, digits and +=,.@_-); null only with create = false."
  type        = string

  validation {
    condition     = var.role_name == null || can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", coalesce(var.role_name, "-")))
    error_message = "role_name must be an IAM role name: 1-64 characters of letters, digits and +=,.@_-."
  }
}

variable "maximum_retry_attempts" {
  description = "Times Lambda retries a failed invocation before the on-failure destination, 0-2 (default 2)."
  type        = number
  default     = 2

  validation {
    condition     = contains([0, 1, 2], var.maximum_retry_attempts)
    error_message = "maximum_retry_attempts must be 0, 1 or 2."
  }
}

variable "maximum_event_age_in_seconds" {
  description = "Age after which Lambda stops retrying an event and sends it to the on-failure destination, 60-21600 seconds (default 3600)."
  type        = number
  default     = 3600

  validation {
    condition     = var.maximum_event_age_in_seconds >= 60 && var.maximum_event_age_in_seconds <= 21600 && floor(var.maximum_event_age_in_seconds) == var.maximum_event_age_in_seconds
    error_message = "maximum_event_age_in_seconds must be a whole number between 60 and 21600."
  }
}

variable "target_maximum_retry_attempts" {
  description = "With delivery = \"eventbridge\": times EventBridge retries delivering an event to Lambda before the failure queue, 0-185 (default 185); Lambda's own retries (maximum_retry_attempts) follow delivery."
  type        = number
  default     = 185

  validation {
    condition     = var.target_maximum_retry_attempts >= 0 && var.target_maximum_retry_attempts <= 185 && floor(var.target_maximum_retry_attempts) == var.target_maximum_retry_attempts
    error_message = "target_maximum_retry_attempts must be a whole number between 0 and 185."
  }
}

variable "target_maximum_event_age_in_seconds" {
  description = "With delivery = \"eventbridge\": age after which EventBridge stops retrying delivery to Lambda, 60-86400 seconds (default 86400)."
  type        = number
  default     = 86400

  validation {
    condition     = var.target_maximum_event_age_in_seconds >= 60 && var.target_maximum_event_age_in_seconds <= 86400 && floor(var.target_maximum_event_age_in_seconds) == var.target_maximum_event_age_in_seconds
    error_message = "target_maximum_event_age_in_seconds must be a whole number between 60 and 86400."
  }
}

variable "create_on_failure_queue" {
  description = "Whether to create an encrypted SQS queue <name>-failures as the on-failure destination (default true); false uses on_failure_destination_arn."
  type        = bool
  default     = true
}

variable "on_failure_destination_arn" {
  description = "ARN of the standard (not FIFO) SQS queue or SNS topic for events Lambda gave up on, when create_on_failure_queue is false; null (default) otherwise; with delivery = \"eventbridge\" it must be a queue whose policy lets events.amazonaws.com send from the rule (aws:SourceArn = the event_rule_arn output): it is also the rule target's dead-letter queue."
  type        = string
  default     = null

  validation {
    condition     = var.on_failure_destination_arn == null || can(regex("^arn:aws[a-z-]*:(sqs|sns):[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$", var.on_failure_destination_arn))
    error_message = "on_failure_destination_arn must be null or a standard SQS queue or SNS topic ARN: Lambda does not send on-failure records to FIFO ones."
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

variable "on_failure_destination_kms_key_arn" {
  description = "ARN of the customer managed KMS key that encrypts the given on-failure queue or topic, when create_on_failure_queue is false; the function's role gets kms:GenerateDataKey and kms:Decrypt on it (Lambda encrypts what it sends with the role's rights; with delivery = \"eventbridge\" the key's own policy must also let events.amazonaws.com use it); null (default) for a destination with SQS- or AWS-managed encryption."
  type        = string
  default     = null

  validation {
    condition     = var.on_failure_destination_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.on_failure_destination_kms_key_arn))
    error_message = "on_failure_destination_kms_key_arn must be null or a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>)."
  }
}
