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
  description = "Tags for every resource of the stack (map of up to 49 key-value strings: the stack adds Project, and AWS allows 50 per resource)."
  type        = map(string)
  default     = {}

  validation {
    condition     = length(merge({ Project = "lambda-dedup" }, var.tags)) <= 50
    error_message = "tags must have at most 49 entries besides Project: the stack adds Project, and AWS allows 50 tags per resource."
  }
}

variable "package_file" {
  description = "Path to the deployment zip; null (default) uses build/lambda.zip in this directory, built by `make package`."
  type        = string
  default     = null
}

variable "triggers" {
  description = "Which triggers to wire, each with its own function and role: api_gateway, s3, sns, eventbridge, sqs, kinesis and dynamodb_stream, each true (the default) or false."
  type = object({
    api_gateway     = optional(bool, true)
    s3              = optional(bool, true)
    sns             = optional(bool, true)
    eventbridge     = optional(bool, true)
    sqs             = optional(bool, true)
    kinesis         = optional(bool, true)
    dynamodb_stream = optional(bool, true)
  })
  default = {}
}

variable "api_authorization_type" {
  description = "How the profiles API authorizes callers: AWS_IAM (default, SigV4-signed requests), JWT (set api_jwt) or NONE (anyone)."
  type        = string
  default     = "AWS_IAM"

  validation {
    condition     = contains(["AWS_IAM", "JWT", "NONE"], var.api_authorization_type)
    error_message = "api_authorization_type must be AWS_IAM, JWT or NONE."
  }
}

variable "api_jwt" {
  description = "JWT authorizer of the profiles API with api_authorization_type JWT: issuer (https URL), audience (1 or more) and optional scopes; null (default) otherwise."
  type = object({
    issuer   = string
    audience = list(string)
    scopes   = optional(list(string), [])
  })
  default = null
}

variable "bucket_force_destroy" {
  description = "Whether destroying the stack deletes the uploads bucket's objects too (default false: a bucket with objects cannot be destroyed)."
  type        = bool
  default     = false
}
