variable "name_prefix" {
  description = "Prefix of every resource name: 2-32 lowercase letters, digits and hyphens, starting with a letter."
  type        = string
  default     = "dedup"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,31}$", var.name_prefix))
    error_message = "name_prefix must be 2-32 lowercase letters, digits and '-', starting with a letter."
  }
}

variable "tags" {
  description = "Tags for every resource of the stack (map of up to 50 key-value strings)."
  type        = map(string)
  default     = {}
}

variable "package_file" {
  description = "Path to the deployment zip; null (default) uses build/lambda.zip in this directory, built by `make package`."
  type        = string
  default     = null
}

variable "triggers" {
  description = "Which triggers to wire, each with its own function and role: sqs, kinesis and dynamodb_stream, each true (the default) or false."
  type = object({
    sqs             = optional(bool, true)
    kinesis         = optional(bool, true)
    dynamodb_stream = optional(bool, true)
  })
  default = {}
}
