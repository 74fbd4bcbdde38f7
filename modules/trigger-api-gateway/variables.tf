variable "create" {
  description = "Whether to create anything; false creates nothing and every output is null."
  type        = bool
  default     = true
}

variable "name" {
  description = "Name of the HTTP API, also used for its access log group: 1-128 letters, digits, hyphens and underscores."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,128}$", var.name))
    error_message = "name must be 1-128 characters of letters, digits, '-' and '_'."
  }
}

variable "description" {
  description = "Description of the API (0-1024 characters)."
  type        = string
  default     = ""

  validation {
    condition     = length(var.description) <= 1024
    error_message = "description must be at most 1024 characters."
  }
}

variable "routes" {
  description = "Route keys sent to the function, each \"<METHOD> /<path>\" with {parameters} (1-50 routes); default POST /profiles and GET /profiles/{user_id}."
  type        = list(string)
  default     = ["POST /profiles", "GET /profiles/{user_id}"]

  validation {
    condition = length(var.routes) >= 1 && length(var.routes) <= 50 && length(distinct(var.routes)) == length(var.routes) && alltrue([
      for route in var.routes : can(regex("^(ANY|GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) /[A-Za-z0-9._~{}/+-]*$", route))
    ])
    error_message = "routes must be 1-50 distinct route keys like \"POST /profiles\" or \"GET /profiles/{user_id}\" (method ANY, GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS)."
  }
}

variable "authorization_type" {
  description = "Who may call the routes: AWS_IAM (default, SigV4-signed requests), JWT (tokens from the jwt issuer) or NONE (anyone; only when chosen explicitly)."
  type        = string
  default     = "AWS_IAM"

  validation {
    condition     = contains(["AWS_IAM", "JWT", "NONE"], var.authorization_type)
    error_message = "authorization_type must be AWS_IAM, JWT or NONE."
  }
}

variable "jwt" {
  description = "JWT authorizer settings with authorization_type JWT: issuer (an https URL), audience (1 or more client ids) and optional scopes every route requires; null (default) otherwise."
  type = object({
    issuer   = string
    audience = list(string)
    scopes   = optional(list(string), [])
  })
  default = null

  validation {
    condition     = var.jwt == null || (startswith(try(var.jwt.issuer, ""), "https://") && length(try(var.jwt.audience, [])) > 0)
    error_message = "jwt.issuer must be an https:// URL and jwt.audience must list at least one audience."
  }
}

variable "function_name" {
  description = "Name of the function the routes invoke (1-64 letters, digits, hyphens or underscores); null only with create = false."
  type        = string

  validation {
    condition     = var.function_name == null || can(regex("^[A-Za-z0-9_-]{1,64}$", coalesce(var.function_name, "-")))
    error_message = "function_name must be 1-64 characters of letters, digits, '-' and '_'."
  }
}

variable "integration_timeout_milliseconds" {
  description = "How long API Gateway waits for the function, 50-30000 ms (default 30000); a client retrying after a timeout gets 409 until the first request completes."
  type        = number
  default     = 30000

  validation {
    condition     = var.integration_timeout_milliseconds >= 50 && var.integration_timeout_milliseconds <= 30000 && floor(var.integration_timeout_milliseconds) == var.integration_timeout_milliseconds
    error_message = "integration_timeout_milliseconds must be a whole number between 50 and 30000."
  }
}

variable "throttling_burst_limit" {
  description = "Requests the stage accepts in a burst, 0-5000 (default 100)."
  type        = number
  default     = 100

  validation {
    condition     = var.throttling_burst_limit >= 0 && var.throttling_burst_limit <= 5000 && floor(var.throttling_burst_limit) == var.throttling_burst_limit
    error_message = "throttling_burst_limit must be a whole number between 0 and 5000."
  }
}

variable "throttling_rate_limit" {
  description = "Steady-state requests per second the stage accepts, 0-10000 (default 50)."
  type        = number
  default     = 50

  validation {
    condition     = var.throttling_rate_limit >= 0 && var.throttling_rate_limit <= 10000
    error_message = "throttling_rate_limit must be between 0 and 10000."
  }
}

variable "log_retention_in_days" {
  description = "Days the access log group keeps events: one of CloudWatch's values from 1 to 3653 (default 14)."
  type        = number
  default     = 14

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_in_days)
    error_message = "log_retention_in_days must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "log_kms_key_arn" {
  description = "ARN of a KMS key that encrypts the access log group; null (default) uses CloudWatch Logs' own encryption."
  type        = string
  default     = null

  validation {
    condition     = var.log_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.log_kms_key_arn))
    error_message = "log_kms_key_arn must be null or a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>)."
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
