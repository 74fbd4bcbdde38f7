variable "create" {
  description = "Whether to create the function and its role and log group; false creates nothing and every output is null."
  type        = bool
  default     = true
}

variable "function_name" {
  description = "Name of the function, also used for its role and log group: 1-64 letters, digits, hyphens or underscores."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.function_name))
    error_message = "function_name must be 1-64 characters of letters, digits, '-' and '_'."
  }
}

variable "description" {
  description = "Description of the function (0-256 characters)."
  type        = string
  default     = ""

  validation {
    condition     = length(var.description) <= 256
    error_message = "description must be at most 256 characters."
  }
}

variable "handler" {
  description = "Python entry point of the function's own code, as a dotted module path then the function's name, e.g. orders.handlers.place_order or lambda_dedup.handlers.inbox.handler (at least one dot)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)+$", var.handler))
    error_message = "handler must be a dotted Python path ending in the function name, e.g. lambda_dedup.handlers.inbox.handler."
  }
}

variable "runtime" {
  description = "Lambda runtime: python3.12, python3.13 (default, the newest the package is tested on) or python3.14 (needs hashicorp/aws 6.20 or newer, the first provider that knows it); python3.11 is refused, Lambda deprecated it on 2026-06-30."
  type        = string
  default     = "python3.13"

  validation {
    condition     = var.runtime != "python3.11"
    error_message = "runtime python3.11 is refused: Lambda deprecated it on 2026-06-30; use python3.12, python3.13 or python3.14."
  }

  validation {
    condition     = var.runtime == "python3.11" || contains(["python3.12", "python3.13", "python3.14"], var.runtime)
    error_message = "runtime must be one of python3.12, python3.13, python3.14."
  }
}

variable "architectures" {
  description = "Instruction set as terraform-aws-lambda names it, a list of exactly one of x86_64 or arm64 (arm64 is about 20% cheaper per GB-second; see the README); null (default) means [\"x86_64\"], or the deprecated architecture input if that is set."
  type        = list(string)
  default     = null

  validation {
    condition     = var.architectures == null || try(length(var.architectures) == 1 && contains(["x86_64", "arm64"], var.architectures[0]), false)
    error_message = "architectures must be null, [\"x86_64\"] or [\"arm64\"]: exactly one of x86_64 or arm64, as Lambda allows one instruction set per function."
  }
}

variable "architecture" {
  description = "Deprecated: use architectures; x86_64 or arm64 as a string, kept for existing callers, null (default) when architectures is used, and refused together with architectures."
  type        = string
  default     = null

  validation {
    condition     = var.architecture == null || contains(["x86_64", "arm64"], coalesce(var.architecture, "x86_64"))
    error_message = "architecture must be null, x86_64 or arm64 (it is deprecated: use architectures = [\"x86_64\"] or [\"arm64\"])."
  }
}

variable "layers" {
  description = "Lambda layer version ARNs for the function, in order, at most 5 (Lambda's limit), each arn:<partition>:lambda:<region>:<account>:layer:<name>:<version>; default none."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.layers) <= 5
    error_message = "layers must hold at most 5 layer version ARNs: Lambda allows 5 layers per function."
  }

  validation {
    condition     = alltrue([for arn in var.layers : can(regex("^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:[0-9]{12}:layer:[A-Za-z0-9_-]{1,140}:[1-9][0-9]*$", arn)) && length(arn) <= 140])
    error_message = "layers must be layer version ARNs (arn:<partition>:lambda:<region>:<account>:layer:<name>:<version>, at most 140 characters), e.g. arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-arm64:7."
  }

  validation {
    condition     = length(distinct(var.layers)) == length(var.layers)
    error_message = "layers must not name the same layer version twice."
  }
}

variable "memory_size" {
  description = "Memory in MB, 128-10240 (default 256)."
  type        = number
  default     = 256

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240 && floor(var.memory_size) == var.memory_size
    error_message = "memory_size must be a whole number of MB between 128 and 10240."
  }
}

variable "timeout" {
  description = "Timeout in seconds, 1-900 (default 30)."
  type        = number
  default     = 30

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900 && floor(var.timeout) == var.timeout
    error_message = "timeout must be a whole number of seconds between 1 and 900."
  }
}

variable "package_file" {
  description = "Path to the function's deployment zip (a path ending in .zip), built by lambda/tools/package.py from the team's code (--source), lambda_dedup and their locked dependencies, or by `make package` for lambda_dedup's own handlers; its sha256 is the source_code_hash."
  type        = string

  validation {
    condition     = endswith(var.package_file, ".zip")
    error_message = "package_file must be the path of a .zip file."
  }
}

variable "environment_variables" {
  description = "Extra environment variables; names are letters, digits and underscores, may not start with AWS_, and may not override the DEDUP_ settings this module sets."
  type        = map(string)
  default     = {}

  validation {
    condition = alltrue([
      for name in keys(var.environment_variables) :
      can(regex("^[A-Za-z][A-Za-z0-9_]*$", name)) && !startswith(name, "AWS_") && !contains(["DEDUP_TABLE_NAME", "DEDUP_TTL_SECONDS"], name)
    ])
    error_message = "environment variable names must match ^[A-Za-z][A-Za-z0-9_]*$, must not start with AWS_, and must not be DEDUP_TABLE_NAME or DEDUP_TTL_SECONDS."
  }
}

variable "idempotency_table_name" {
  description = "Name of the idempotency table (modules/idempotency-table), passed to the function as DEDUP_TABLE_NAME."
  type        = string
}

variable "idempotency_table_arn" {
  description = "ARN of the idempotency table; the role may use PutItem, UpdateItem and DeleteItem on this ARN only."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/[A-Za-z0-9_.-]{3,255}$", var.idempotency_table_arn))
    error_message = "idempotency_table_arn must be a DynamoDB table ARN (arn:<partition>:dynamodb:<region>:<account>:table/<name>)."
  }
}

variable "dedup_ttl_seconds" {
  description = "How long a deduplication record is kept, in seconds: 60 to 31622400 (366 days); default 86400 (one day)."
  type        = number
  default     = 86400

  validation {
    condition     = var.dedup_ttl_seconds >= 60 && var.dedup_ttl_seconds <= 31622400 && floor(var.dedup_ttl_seconds) == var.dedup_ttl_seconds
    error_message = "dedup_ttl_seconds must be a whole number between 60 and 31622400."
  }
}

variable "log_level" {
  description = "Powertools log level: DEBUG, INFO (default), WARNING or ERROR."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR"], var.log_level)
    error_message = "log_level must be one of DEBUG, INFO, WARNING, ERROR."
  }
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the function's Powertools metrics (1-255 characters, no colon)."
  type        = string
  default     = "LambdaDedup"

  validation {
    condition     = can(regex("^[^:]{1,255}$", var.metrics_namespace))
    error_message = "metrics_namespace must be 1-255 characters without ':'."
  }
}

variable "reserved_concurrent_executions" {
  description = "Reserved concurrency, 0 or more; null (default) leaves the function unreserved."
  type        = number
  default     = null

  validation {
    condition     = var.reserved_concurrent_executions == null || try(var.reserved_concurrent_executions >= 0, false)
    error_message = "reserved_concurrent_executions must be null or a number >= 0."
  }
}

variable "dead_letter_target_arn" {
  description = "ARN of a standard (not FIFO) SQS queue or SNS topic for asynchronous invocations that fail every retry; null for none."
  type        = string
  default     = null

  validation {
    condition     = var.dead_letter_target_arn == null || can(regex("^arn:aws[a-z-]*:(sqs|sns):[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$", var.dead_letter_target_arn))
    error_message = "dead_letter_target_arn must be null or a standard SQS queue or SNS topic ARN: Lambda does not send to FIFO ones."
  }
}

variable "kms_key_arn" {
  description = "ARN of a customer managed KMS key for the environment variables; null uses the AWS managed key."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be null or a KMS key ARN."
  }
}

variable "log_retention_in_days" {
  description = "Retention of the function's log group, one of CloudWatch's values (1, 3, 5, 7, 14, 30, ... 3653); default 14."
  type        = number
  default     = 14

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_in_days)
    error_message = "log_retention_in_days must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "log_kms_key_arn" {
  description = "ARN of a KMS key to encrypt the log group; null uses CloudWatch Logs' default encryption."
  type        = string
  default     = null

  validation {
    condition     = var.log_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.log_kms_key_arn))
    error_message = "log_kms_key_arn must be null or a KMS key ARN."
  }
}

variable "policy_statements" {
  description = "Further IAM statements for the function's role, by statement id: exact actions (no wildcards) on explicit resources (no \"*\")."
  type = map(object({
    effect    = optional(string, "Allow")
    actions   = list(string)
    resources = list(string)
  }))
  default = {}

  validation {
    condition     = alltrue([for sid in keys(var.policy_statements) : can(regex("^[A-Za-z0-9]{1,64}$", sid))])
    error_message = "policy_statements keys are statement ids: 1-64 letters and digits."
  }

  validation {
    condition     = alltrue([for s in values(var.policy_statements) : contains(["Allow", "Deny"], s.effect)])
    error_message = "policy_statements effect must be Allow or Deny."
  }

  validation {
    condition = alltrue(flatten([
      for s in values(var.policy_statements) : [for a in s.actions : can(regex("^[a-z0-9-]+:[A-Za-z0-9]+$", a))]
    ]))
    error_message = "policy_statements actions must be exact service:Action names; wildcards are not allowed."
  }

  validation {
    condition = alltrue([
      for s in values(var.policy_statements) : length(s.actions) > 0 && length(s.resources) > 0 && !contains(s.resources, "*")
    ])
    error_message = "policy_statements need at least one action and one resource, and \"*\" is not allowed as a resource."
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
