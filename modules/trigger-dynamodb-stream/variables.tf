variable "create" {
  description = "Whether to create anything; false creates nothing and every output is null."
  type        = bool
  default     = true
}

variable "name" {
  description = "Name of the table to create and prefix of the created failure queue's name: 1-71 letters, digits, hyphens and underscores."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,71}$", var.name))
    error_message = "name must be 1-71 characters of letters, digits, '-' and '_' (the failure queue appends -failures)."
  }
}

variable "create_table" {
  description = "Whether to create a source table with a NEW_AND_OLD_IMAGES stream (default true); false consumes stream_arn."
  type        = bool
  default     = true
}

variable "stream_arn" {
  description = "ARN of the existing DynamoDB stream to consume when create_table is false; null (default) otherwise."
  type        = string
  default     = null

  validation {
    condition     = var.stream_arn == null || can(regex("^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/[A-Za-z0-9_.-]{3,255}/stream/.+$", var.stream_arn))
    error_message = "stream_arn must be null or a DynamoDB stream ARN (arn:<partition>:dynamodb:<region>:<account>:table/<name>/stream/<label>)."
  }
}

variable "hash_key" {
  description = "Partition key attribute of the created table, a string (1-255 characters); default \"id\"."
  type        = string
  default     = "id"

  validation {
    condition     = length(var.hash_key) >= 1 && length(var.hash_key) <= 255
    error_message = "hash_key must be 1-255 characters."
  }
}

variable "range_key" {
  description = "Sort key attribute of the created table, a string (1-255 characters); null (default) for none."
  type        = string
  default     = null

  validation {
    condition     = var.range_key == null || try(length(var.range_key) >= 1 && length(var.range_key) <= 255, false)
    error_message = "range_key must be null or 1-255 characters."
  }
}

variable "kms_key_arn" {
  description = "ARN of a customer managed KMS key for the created table's encryption, on which the function's role gets kms:Decrypt to read the stream; null (default) uses the AWS managed key (aws/dynamodb)."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be null or a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>)."
  }
}

variable "function_name" {
  description = "Name of the function the stream triggers (1-64 letters, digits, hyphens or underscores); null only with create = false."
  type        = string

  validation {
    condition     = var.function_name == null || can(regex("^[A-Za-z0-9_-]{1,64}$", coalesce(var.function_name, "-")))
    error_message = "function_name must be 1-64 characters of letters, digits, '-' and '_'."
  }
}

variable "role_name" {
  description = "Name of the function's execution role, which gets the stream and destination permissions (1-64 characters of letters, digits and +=,.@_-); null only with create = false."
  type        = string

  validation {
    condition     = var.role_name == null || can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", coalesce(var.role_name, "-")))
    error_message = "role_name must be an IAM role name: 1-64 characters of letters, digits and +=,.@_-."
  }
}

variable "enabled" {
  description = "Whether the event source mapping reads the stream (default true)."
  type        = bool
  default     = true
}

variable "starting_position" {
  description = "Where a new mapping starts reading: TRIM_HORIZON (default, the oldest record) or LATEST."
  type        = string
  default     = "TRIM_HORIZON"

  validation {
    condition     = contains(["TRIM_HORIZON", "LATEST"], var.starting_position)
    error_message = "starting_position must be TRIM_HORIZON or LATEST."
  }
}

variable "batch_size" {
  description = "Most records per invocation, 1-10000 (default 100)."
  type        = number
  default     = 100

  validation {
    condition     = var.batch_size >= 1 && var.batch_size <= 10000 && floor(var.batch_size) == var.batch_size
    error_message = "batch_size must be a whole number between 1 and 10000."
  }
}

variable "maximum_batching_window_in_seconds" {
  description = "How long Lambda gathers records before invoking, 0-300 seconds (default 0)."
  type        = number
  default     = 0

  validation {
    condition     = var.maximum_batching_window_in_seconds >= 0 && var.maximum_batching_window_in_seconds <= 300
    error_message = "maximum_batching_window_in_seconds must be between 0 and 300."
  }
}

variable "parallelization_factor" {
  description = "Concurrent batches per shard, 1-10 (default 1); changes of one item stay in order."
  type        = number
  default     = 1

  validation {
    condition     = var.parallelization_factor >= 1 && var.parallelization_factor <= 10 && floor(var.parallelization_factor) == var.parallelization_factor
    error_message = "parallelization_factor must be a whole number between 1 and 10."
  }
}

variable "bisect_batch_on_function_error" {
  description = "Whether Lambda splits a failing batch in two and retries each half (default true)."
  type        = bool
  default     = true
}

variable "maximum_retry_attempts" {
  description = "Retries of a failing batch before it goes to the on-failure destination, 0-10000 (default 5); never infinite."
  type        = number
  default     = 5

  validation {
    condition     = var.maximum_retry_attempts >= 0 && var.maximum_retry_attempts <= 10000 && floor(var.maximum_retry_attempts) == var.maximum_retry_attempts
    error_message = "maximum_retry_attempts must be a whole number between 0 and 10000: -1 (retry forever) would block the shard on one bad record."
  }
}

variable "maximum_record_age_in_seconds" {
  description = "Age after which a failing record goes to the on-failure destination, 60-604800 seconds (default 3600); never infinite."
  type        = number
  default     = 3600

  validation {
    condition     = var.maximum_record_age_in_seconds >= 60 && var.maximum_record_age_in_seconds <= 604800 && floor(var.maximum_record_age_in_seconds) == var.maximum_record_age_in_seconds
    error_message = "maximum_record_age_in_seconds must be a whole number between 60 and 604800: -1 (no limit) would block the shard on one bad record."
  }
}

variable "create_on_failure_queue" {
  description = "Whether to create an encrypted SQS queue <name>-failures as the on-failure destination (default true); false uses on_failure_destination_arn."
  type        = bool
  default     = true
}

variable "on_failure_destination_arn" {
  description = "ARN of the standard (not FIFO) SQS queue or SNS topic for batches Lambda gave up on, when create_on_failure_queue is false; null (default) otherwise."
  type        = string
  default     = null

  validation {
    condition     = var.on_failure_destination_arn == null || can(regex("^arn:aws[a-z-]*:(sqs|sns):[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$", var.on_failure_destination_arn))
    error_message = "on_failure_destination_arn must be null or a standard SQS queue or SNS topic ARN: Lambda does not send on-failure records to FIFO ones."
  }
}

variable "filter_patterns" {
  description = "Event filtering patterns, each a JSON object, up to 5 (Lambda's default quota; raise it with a Service Quotas request before passing more), that a stream record must match to be delivered; [] (default) delivers every record; a record that matches no pattern is skipped, never delivered."
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

variable "on_failure_destination_kms_key_arn" {
  description = "ARN of the customer managed KMS key that encrypts the given on-failure queue or topic, when create_on_failure_queue is false; the function's role gets kms:GenerateDataKey and kms:Decrypt on it (Lambda encrypts what it sends with the role's rights); null (default) for a destination with SQS- or AWS-managed encryption."
  type        = string
  default     = null

  validation {
    condition     = var.on_failure_destination_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.on_failure_destination_kms_key_arn))
    error_message = "on_failure_destination_kms_key_arn must be null or a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>)."
  }
}
