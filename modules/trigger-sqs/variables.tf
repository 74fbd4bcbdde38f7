variable "create" {
  description = "Whether to create anything; false creates nothing and every output is null."
  type        = bool
  default     = true
}

variable "name" {
  description = "Name of the queue to create (1-71 letters, digits, hyphens and underscores; -dlq and .fifo are appended as needed)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,71}$", var.name))
    error_message = "name must be 1-71 characters of letters, digits, '-' and '_' (without .fifo)."
  }
}

variable "create_queue" {
  description = "Whether to create the queue and its dead-letter queue (default true); false consumes queue_arn, whose DLQ and visibility timeout are its owner's."
  type        = bool
  default     = true
}

variable "queue_arn" {
  description = "ARN of the existing queue to consume when create_queue is false; null (default) otherwise."
  type        = string
  default     = null

  validation {
    condition     = var.queue_arn == null || can(regex("^arn:aws[a-z-]*:sqs:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,80}(\\.fifo)?$", var.queue_arn))
    error_message = "queue_arn must be null or an SQS queue ARN (arn:<partition>:sqs:<region>:<account>:<name>)."
  }
}

variable "fifo_queue" {
  description = "Whether the created queue and its DLQ are FIFO queues (default false); for a given queue_arn its .fifo suffix decides."
  type        = bool
  default     = false
}

variable "content_based_deduplication" {
  description = "Whether a created FIFO queue deduplicates by message body (default false: producers set MessageDeduplicationId)."
  type        = bool
  default     = false
}

variable "function_name" {
  description = "Name of the function the queue triggers (1-64 letters, digits, hyphens or underscores); null only with create = false."
  type        = string

  validation {
    condition     = var.function_name == null || can(regex("^[A-Za-z0-9_-]{1,64}$", coalesce(var.function_name, "-")))
    error_message = "function_name must be 1-64 characters of letters, digits, '-' and '_'."
  }
}

variable "role_name" {
  description = "Name of the function's execution role, which gets the queue permissions (1-64 characters of letters, digits and +=,.@_-); null only with create = false."
  type        = string

  validation {
    condition     = var.role_name == null || can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", coalesce(var.role_name, "-")))
    error_message = "role_name must be an IAM role name: 1-64 characters of letters, digits and +=,.@_-."
  }
}

variable "function_timeout" {
  description = "The function's timeout in seconds (1-900), which the queue's visibility timeout must cover six times over."
  type        = number

  validation {
    condition     = var.function_timeout >= 1 && var.function_timeout <= 900
    error_message = "function_timeout must be between 1 and 900 seconds."
  }
}

variable "visibility_timeout_seconds" {
  description = "Visibility timeout of the created queue, 0-43200 seconds and at least 6 times function_timeout; null (default) uses exactly 6 times function_timeout."
  type        = number
  default     = null

  validation {
    condition     = var.visibility_timeout_seconds == null || try(var.visibility_timeout_seconds >= 0 && var.visibility_timeout_seconds <= 43200, false)
    error_message = "visibility_timeout_seconds must be null or between 0 and 43200."
  }
}

variable "message_retention_seconds" {
  description = "How long the created queue keeps a message, 60-1209600 seconds (default 345600, four days)."
  type        = number
  default     = 345600

  validation {
    condition     = var.message_retention_seconds >= 60 && var.message_retention_seconds <= 1209600
    error_message = "message_retention_seconds must be between 60 and 1209600."
  }
}

variable "dead_letter_message_retention_seconds" {
  description = "How long the dead-letter queue keeps a message, 60-1209600 seconds (default 1209600, the maximum of 14 days)."
  type        = number
  default     = 1209600

  validation {
    condition     = var.dead_letter_message_retention_seconds >= 60 && var.dead_letter_message_retention_seconds <= 1209600
    error_message = "dead_letter_message_retention_seconds must be between 60 and 1209600."
  }
}

variable "max_receive_count" {
  description = "Receives after which a message moves to the dead-letter queue (maxReceiveCount), 1-1000 (default 5)."
  type        = number
  default     = 5

  validation {
    condition     = var.max_receive_count >= 1 && var.max_receive_count <= 1000 && floor(var.max_receive_count) == var.max_receive_count
    error_message = "max_receive_count must be a whole number between 1 and 1000."
  }
}

variable "kms_key_arn" {
  description = "ARN of the customer managed KMS key of the queue (used to encrypt created queues, and granted kms:Decrypt); null (default) uses SQS-managed encryption."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be null or a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>)."
  }
}

variable "enabled" {
  description = "Whether the event source mapping polls the queue (default true)."
  type        = bool
  default     = true
}

variable "batch_size" {
  description = "Most messages per invocation: 1-10000 for a standard queue (above 10 needs a batching window), 1-10 for FIFO; default 10."
  type        = number
  default     = 10

  validation {
    condition     = var.batch_size >= 1 && var.batch_size <= 10000 && floor(var.batch_size) == var.batch_size
    error_message = "batch_size must be a whole number between 1 and 10000."
  }
}

variable "maximum_batching_window_in_seconds" {
  description = "How long Lambda gathers messages before invoking, 0-300 seconds (default 0); FIFO queues allow 0 only."
  type        = number
  default     = 0

  validation {
    condition     = var.maximum_batching_window_in_seconds >= 0 && var.maximum_batching_window_in_seconds <= 300
    error_message = "maximum_batching_window_in_seconds must be between 0 and 300."
  }
}

variable "maximum_concurrency" {
  description = "Most concurrent invocations the queue may drive, 2-1000; null (default) leaves it to the function's concurrency."
  type        = number
  default     = null

  validation {
    condition     = var.maximum_concurrency == null || try(var.maximum_concurrency >= 2 && var.maximum_concurrency <= 1000, false)
    error_message = "maximum_concurrency must be null or between 2 and 1000."
  }
}

variable "filter_patterns" {
  description = "Event filtering patterns, each a JSON object, up to 5 (Lambda's default quota; raise it with a Service Quotas request before passing more), that a message must match to be delivered; [] (default) delivers every message; Lambda deletes a message that matches no pattern, without invoking the function."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.filter_patterns) <= 5 && alltrue([for p in var.filter_patterns : can(keys(jsondecode(p)))])
    error_message = "filter_patterns must be at most 5 JSON objects (Lambda's default quota per event source mapping)."
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
