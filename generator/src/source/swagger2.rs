//! Upgrades a Swagger 2.0 document to OpenAPI 3.0 without losing anything the IR needs.
//!
//! openapiv3 reads only OpenAPI 3.0, and a plain conversion would drop facts the Docker
//! specs rely on. This pass keeps them in standard 3.0 form where one exists and in
//! vendor extensions where none does:
//! - `$ref` with siblings (`description`, `x-nullable`) → `allOf: [$ref]` plus the siblings;
//! - `x-nullable` → `nullable` (the extension is kept too);
//! - `produces`/`consumes` (operation or global) → response/request `content` keys, and
//!   always `x-produces`/`x-consumes` on the operation (responses without a schema keep them);
//! - `collectionFormat` → `style`/`explode` plus `x-collection-format`;
//! - body parameters → `requestBody` with `x-body-name`; `type: file` → binary string;
//! - response `examples` → `example` on the matching content, the rest as `x-examples`.
//!
//! Anything that is not valid Swagger 2.0 (such as `type: [array, string]`) is a located error.

use serde_json::{json, Map, Value};

use crate::diagnostics::{pointer_push, Diagnostic, Diagnostics};

const METHODS: [&str; 7] = ["get", "put", "post", "delete", "options", "head", "patch"];

struct Upgrader<'a> {
    file: &'a str,
    problems: Diagnostics,
    global_params: Map<String, Value>,
}

/// Upgrades `doc` (Swagger 2.0) to an OpenAPI 3.0.3 document.
pub fn upgrade(doc: &Value, file: &str) -> Result<Value, Diagnostics> {
    let Some(root) = doc.as_object() else {
        return Err(Diagnostic::new(file, "", "the document is not an object").into());
    };
    if root.get("swagger").and_then(Value::as_str) != Some("2.0") {
        return Err(Diagnostic::new(file, "/swagger", "not a Swagger 2.0 document (`swagger: \"2.0\"` expected)").into());
    }
    let mut up = Upgrader {
        file,
        problems: Diagnostics::default(),
        global_params: root.get("parameters").and_then(Value::as_object).cloned().unwrap_or_default(),
    };
    let global_produces = string_list(root.get("produces"));
    let global_consumes = string_list(root.get("consumes"));

    let mut out = Map::new();
    out.insert("openapi".into(), json!("3.0.3"));
    for (key, value) in root {
        match key.as_str() {
            "swagger"
            | "host"
            | "schemes"
            | "basePath"
            | "paths"
            | "definitions"
            | "parameters"
            | "responses"
            | "securityDefinitions"
            | "produces"
            | "consumes" => {}
            "info" | "tags" | "externalDocs" | "security" => {
                out.insert(key.clone(), value.clone());
            }
            k if k.starts_with("x-") => {
                out.insert(key.clone(), value.clone());
            }
            other => up.problems.push(Diagnostic::new(file, pointer_push("", other), format!("unknown Swagger 2.0 field `{other}`"))),
        }
    }
    let base_path = root.get("basePath").and_then(Value::as_str).unwrap_or("/");
    out.insert("servers".into(), json!([{ "url": base_path }]));
    if !global_produces.is_empty() {
        out.insert("x-produces".into(), json!(global_produces));
    }
    if !global_consumes.is_empty() {
        out.insert("x-consumes".into(), json!(global_consumes));
    }

    let mut paths = Map::new();
    if let Some(src) = root.get("paths").and_then(Value::as_object) {
        for (path, item) in src {
            let ptr = pointer_push("/paths", path);
            paths.insert(path.clone(), up.path_item(item, &ptr, &global_produces, &global_consumes));
        }
    }
    out.insert("paths".into(), Value::Object(paths));

    let mut components = Map::new();
    if let Some(defs) = root.get("definitions").and_then(Value::as_object) {
        let mut schemas = Map::new();
        for (name, schema) in defs {
            schemas.insert(name.clone(), up.schema(schema, &pointer_push("/definitions", name)));
        }
        components.insert("schemas".into(), Value::Object(schemas));
    }
    if let Some(sec) = root.get("securityDefinitions") {
        components.insert("securitySchemes".into(), sec.clone());
    }
    out.insert("components".into(), Value::Object(components));
    up.problems.into_result(Value::Object(out))
}

fn string_list(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array).map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect()).unwrap_or_default()
}

impl Upgrader<'_> {
    fn error(&mut self, pointer: &str, message: impl Into<String>) {
        self.problems.push(Diagnostic::new(self.file, pointer, message));
    }

    fn path_item(&mut self, item: &Value, ptr: &str, produces: &[String], consumes: &[String]) -> Value {
        let Some(item) = item.as_object() else {
            self.error(ptr, "a path item must be an object");
            return json!({});
        };
        let shared_params = item.get("parameters").and_then(Value::as_array).cloned().unwrap_or_default();
        let mut out = Map::new();
        for (key, value) in item {
            if METHODS.contains(&key.as_str()) {
                let op = self.operation(value, &pointer_push(ptr, key), &shared_params, produces, consumes);
                out.insert(key.clone(), op);
            } else if key.starts_with("x-") {
                out.insert(key.clone(), value.clone());
            } else if key != "parameters" {
                self.error(&pointer_push(ptr, key), format!("unknown path item field `{key}`"));
            }
        }
        Value::Object(out)
    }

    fn operation(&mut self, op: &Value, ptr: &str, shared: &[Value], produces: &[String], consumes: &[String]) -> Value {
        let Some(op) = op.as_object() else {
            self.error(ptr, "an operation must be an object");
            return json!({"responses": {}});
        };
        let produces = op.get("produces").map(|p| string_list(Some(p))).unwrap_or_else(|| produces.to_vec());
        let consumes = op.get("consumes").map(|p| string_list(Some(p))).unwrap_or_else(|| consumes.to_vec());
        let mut out = Map::new();
        for (key, value) in op {
            match key.as_str() {
                "tags" | "summary" | "description" | "operationId" | "deprecated" | "security" | "externalDocs" => {
                    out.insert(key.clone(), value.clone());
                }
                "produces" | "consumes" | "parameters" | "responses" | "schemes" => {}
                k if k.starts_with("x-") => {
                    out.insert(key.clone(), value.clone());
                }
                other => self.error(&pointer_push(ptr, other), format!("unknown operation field `{other}`")),
            }
        }
        out.insert("x-produces".into(), json!(produces));
        out.insert("x-consumes".into(), json!(consumes));

        // Operation parameters override path-level ones with the same (name, in).
        // Parameter references resolve first, so an override is matched on what it refers to.
        let path_ptr = ptr.rsplit_once('/').map_or(ptr, |(path, _)| path);
        let own = op.get("parameters").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        let mut params: Vec<(String, Value)> = Vec::new();
        for (base, list) in [(path_ptr, shared), (ptr, own)] {
            for (i, p) in list.iter().enumerate() {
                let p_ptr = format!("{base}/parameters/{i}");
                let p = self.resolve_param(p, &p_ptr);
                let key = |v: &Value| (v.get("name").cloned(), v.get("in").cloned());
                params.retain(|(_, q)| key(q) != key(&p));
                params.push((p_ptr, p));
            }
        }

        let mut parameters = Vec::new();
        let mut form_fields: Vec<(String, Value, bool)> = Vec::new();
        for (p_ptr, p) in params {
            match p.get("in").and_then(Value::as_str) {
                Some("body") => {
                    let schema = self.schema(p.get("schema").unwrap_or(&json!({})), &format!("{p_ptr}/schema"));
                    let types = if consumes.is_empty() { vec!["application/json".to_string()] } else { consumes.clone() };
                    let content: Map<String, Value> = types.iter().map(|t| (t.clone(), json!({ "schema": schema }))).collect();
                    let mut body = Map::new();
                    if let Some(d) = p.get("description") {
                        body.insert("description".into(), d.clone());
                    }
                    body.insert("required".into(), p.get("required").cloned().unwrap_or(json!(false)));
                    body.insert("content".into(), Value::Object(content));
                    if let Some(n) = p.get("name") {
                        body.insert("x-body-name".into(), n.clone());
                    }
                    copy_extensions(&p, &mut body);
                    out.insert("requestBody".into(), Value::Object(body));
                }
                Some("formData") => {
                    let name = p.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
                    let required = p.get("required").and_then(Value::as_bool).unwrap_or(false);
                    form_fields.push((name, self.simple_schema(&p, &p_ptr), required));
                }
                Some("query" | "path" | "header") => parameters.push(self.parameter(&p, &p_ptr)),
                Some(other) => self.error(&format!("{p_ptr}/in"), format!("unsupported parameter location `{other}`")),
                None => self.error(&p_ptr, "parameter without `in`"),
            }
        }
        if !form_fields.is_empty() {
            let mut props = Map::new();
            let mut required = Vec::new();
            for (name, schema, req) in form_fields {
                if req {
                    required.push(json!(name));
                }
                props.insert(name, schema);
            }
            let mt = consumes.first().cloned().unwrap_or_else(|| "application/x-www-form-urlencoded".into());
            out.insert(
                "requestBody".into(),
                json!({"content": {mt: {"schema": {"type": "object", "properties": props, "required": required}}}}),
            );
        }
        if !parameters.is_empty() {
            out.insert("parameters".into(), Value::Array(parameters));
        }

        let mut responses = Map::new();
        match op.get("responses").and_then(Value::as_object) {
            Some(src) => {
                for (status, resp) in src {
                    if status.starts_with("x-") {
                        responses.insert(status.clone(), resp.clone());
                        continue;
                    }
                    let r_ptr = pointer_push(&format!("{ptr}/responses"), status);
                    responses.insert(status.clone(), self.response(resp, &r_ptr, &produces));
                }
            }
            None => self.error(ptr, "operation without `responses`"),
        }
        out.insert("responses".into(), Value::Object(responses));
        Value::Object(out)
    }

    fn resolve_param(&mut self, p: &Value, ptr: &str) -> Value {
        match p.get("$ref").and_then(Value::as_str) {
            Some(r) => match r.strip_prefix("#/parameters/").and_then(|n| self.global_params.get(n)) {
                Some(target) => target.clone(),
                None => {
                    self.error(ptr, format!("parameter reference `{r}` does not resolve"));
                    json!({})
                }
            },
            None => p.clone(),
        }
    }

    fn parameter(&mut self, p: &Value, ptr: &str) -> Value {
        let mut out = Map::new();
        for key in ["name", "in", "description", "required", "deprecated", "allowEmptyValue"] {
            if let Some(v) = p.get(key) {
                out.insert(key.into(), v.clone());
            }
        }
        if p.get("in").and_then(Value::as_str) == Some("path") {
            out.insert("required".into(), json!(true));
        }
        if p.get("name").and_then(Value::as_str).is_none() {
            self.error(ptr, "parameter without `name`");
        }
        out.insert("schema".into(), self.simple_schema(p, ptr));
        if let Some(cf) = p.get("collectionFormat").and_then(Value::as_str) {
            out.insert("x-collection-format".into(), json!(cf));
            let (style, explode) = match cf {
                "multi" => ("form", true),
                "ssv" => ("spaceDelimited", false),
                "pipes" => ("pipeDelimited", false),
                _ => ("form", false),
            };
            if p.get("in").and_then(Value::as_str) == Some("query") {
                out.insert("style".into(), json!(style));
                out.insert("explode".into(), json!(explode));
            }
        }
        copy_extensions(p, &mut out);
        Value::Object(out)
    }

    /// The schema of a non-body parameter or header, whose type facts sit on the object itself.
    fn simple_schema(&mut self, p: &Value, ptr: &str) -> Value {
        let mut schema = Map::new();
        for key in [
            "type",
            "format",
            "items",
            "default",
            "enum",
            "maximum",
            "minimum",
            "exclusiveMaximum",
            "exclusiveMinimum",
            "maxLength",
            "minLength",
            "pattern",
            "maxItems",
            "minItems",
            "uniqueItems",
            "multipleOf",
        ] {
            if let Some(v) = p.get(key) {
                schema.insert(key.into(), v.clone());
            }
        }
        if let Some(items) = schema.get("items").cloned() {
            schema.insert("items".into(), self.simple_schema(&items, &format!("{ptr}/items")));
        }
        self.schema(&Value::Object(schema), ptr)
    }

    fn response(&mut self, resp: &Value, ptr: &str, produces: &[String]) -> Value {
        let Some(resp) = resp.as_object() else {
            self.error(ptr, "a response must be an object");
            return json!({"description": ""});
        };
        let mut out = Map::new();
        out.insert("description".into(), resp.get("description").cloned().unwrap_or(json!("")));
        let examples = resp.get("examples").and_then(Value::as_object).cloned().unwrap_or_default();
        if let Some(schema) = resp.get("schema") {
            let schema = self.schema(schema, &format!("{ptr}/schema"));
            let types = if produces.is_empty() { vec!["application/json".to_string()] } else { produces.to_vec() };
            let mut content = Map::new();
            for t in &types {
                let mut media = Map::new();
                media.insert("schema".into(), schema.clone());
                if let Some(ex) = examples.get(t) {
                    media.insert("example".into(), ex.clone());
                }
                content.insert(t.clone(), Value::Object(media));
            }
            out.insert("content".into(), Value::Object(content));
            let unmatched: Map<String, Value> =
                examples.iter().filter(|(k, _)| !types.contains(k)).map(|(k, v)| (k.clone(), v.clone())).collect();
            if !unmatched.is_empty() {
                out.insert("x-examples".into(), Value::Object(unmatched));
            }
        } else if !examples.is_empty() {
            out.insert("x-examples".into(), Value::Object(examples));
        }
        if let Some(headers) = resp.get("headers").and_then(Value::as_object) {
            let mut hs = Map::new();
            for (name, h) in headers {
                let h_ptr = pointer_push(&format!("{ptr}/headers"), name);
                let mut header = Map::new();
                if let Some(d) = h.get("description") {
                    header.insert("description".into(), d.clone());
                }
                header.insert("schema".into(), self.simple_schema(h, &h_ptr));
                copy_extensions(h, &mut header);
                hs.insert(name.clone(), Value::Object(header));
            }
            out.insert("headers".into(), Value::Object(hs));
        }
        for (key, value) in resp {
            if key.starts_with("x-") {
                out.insert(key.clone(), value.clone());
            } else if !matches!(key.as_str(), "description" | "schema" | "headers" | "examples") {
                self.error(&pointer_push(ptr, key), format!("unknown response field `{key}`"));
            }
        }
        Value::Object(out)
    }

    fn schema(&mut self, schema: &Value, ptr: &str) -> Value {
        let Some(src) = schema.as_object() else {
            if !schema.is_boolean() {
                self.error(ptr, "a schema must be an object");
            }
            return json!({});
        };
        if let Some(r) = src.get("$ref") {
            let target = match r.as_str() {
                Some(r) => match r.strip_prefix("#/definitions/") {
                    Some(name) => format!("#/components/schemas/{name}"),
                    None => {
                        self.error(&pointer_push(ptr, "$ref"), format!("only local `#/definitions/` references are supported, not `{r}`"));
                        r.to_string()
                    }
                },
                None => {
                    self.error(&pointer_push(ptr, "$ref"), "`$ref` must be a string");
                    String::new()
                }
            };
            let reference = json!({ "$ref": target });
            if src.len() == 1 {
                return reference;
            }
            // Siblings of $ref are ignored by OpenAPI 3.0; allOf keeps them meaningful.
            let mut out = Map::new();
            out.insert("allOf".into(), json!([reference]));
            for (k, v) in src {
                if k != "$ref" {
                    self.schema_member(&mut out, k, v, ptr);
                }
            }
            return Value::Object(out);
        }
        let mut out = Map::new();
        for (k, v) in src {
            self.schema_member(&mut out, k, v, ptr);
        }
        Value::Object(out)
    }

    fn schema_member(&mut self, out: &mut Map<String, Value>, key: &str, value: &Value, ptr: &str) {
        let at = pointer_push(ptr, key);
        match key {
            "type" => match value.as_str() {
                Some("file") => {
                    out.insert("type".into(), json!("string"));
                    out.insert("format".into(), json!("binary"));
                }
                Some(t) => {
                    out.insert("type".into(), json!(t));
                }
                None => self.error(
                    &at,
                    format!("`type` must be one string in Swagger 2.0, found {value}; correct it with an overlay in spec/corrections"),
                ),
            },
            "x-nullable" => {
                out.insert("nullable".into(), value.clone());
                out.insert(key.into(), value.clone());
            }
            "properties" => {
                let mut props = Map::new();
                if let Some(src) = value.as_object() {
                    for (name, s) in src {
                        props.insert(name.clone(), self.schema(s, &pointer_push(&at, name)));
                    }
                } else {
                    self.error(&at, "`properties` must be an object");
                }
                out.insert(key.into(), Value::Object(props));
            }
            "items" => {
                if value.is_array() {
                    self.error(&at, "tuple `items` are not supported");
                } else {
                    out.insert(key.into(), self.schema(value, &at));
                }
            }
            "additionalProperties" => {
                let v = if value.is_object() { self.schema(value, &at) } else { value.clone() };
                out.insert(key.into(), v);
            }
            "allOf" => match value.as_array() {
                Some(parts) => {
                    let mut all = out.get("allOf").and_then(Value::as_array).cloned().unwrap_or_default();
                    for (i, s) in parts.iter().enumerate() {
                        all.push(self.schema(s, &format!("{at}/{i}")));
                    }
                    out.insert(key.into(), Value::Array(all));
                }
                None => self.error(&at, "`allOf` must be an array"),
            },
            "discriminator" => {
                let v = match value.as_str() {
                    Some(name) => json!({ "propertyName": name }),
                    None => value.clone(),
                };
                out.insert(key.into(), v);
            }
            _ => {
                out.insert(key.into(), value.clone());
            }
        }
    }
}

fn copy_extensions(src: &Value, out: &mut Map<String, Value>) {
    if let Some(src) = src.as_object() {
        for (k, v) in src {
            if k.starts_with("x-") {
                out.insert(k.clone(), v.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_ref_siblings_and_nullable() {
        let doc = json!({
            "swagger": "2.0", "basePath": "/v1.41", "info": {"title": "t", "version": "1.41"},
            "produces": ["application/json"],
            "definitions": {"A": {"type": "object", "properties": {"B": {"$ref": "#/definitions/B", "description": "the b", "x-nullable": true}}}, "B": {"type": "string"}},
            "paths": {"/x/{id}": {"post": {
                "operationId": "X", "consumes": ["application/x-tar"],
                "parameters": [
                    {"name": "id", "in": "path", "type": "string"},
                    {"name": "t", "in": "query", "type": "array", "items": {"type": "string"}, "collectionFormat": "multi"},
                    {"name": "X-Registry-Auth", "in": "header", "type": "string"},
                    {"name": "ctx", "in": "body", "schema": {"type": "string", "format": "binary"}}
                ],
                "responses": {"200": {"description": "ok", "schema": {"$ref": "#/definitions/A"}, "headers": {"X-Foo": {"type": "integer", "format": "int64"}}}}
            }}}
        });
        let up = upgrade(&doc, "t.yaml").unwrap();
        assert_eq!(
            up["components"]["schemas"]["A"]["properties"]["B"],
            json!({"allOf": [{"$ref": "#/components/schemas/B"}], "description": "the b", "nullable": true, "x-nullable": true})
        );
        let op = &up["paths"]["/x/{id}"]["post"];
        assert_eq!(op["x-produces"], json!(["application/json"]));
        assert_eq!(op["requestBody"]["content"]["application/x-tar"]["schema"]["format"], "binary");
        assert_eq!(op["requestBody"]["x-body-name"], "ctx");
        assert_eq!(op["parameters"][1]["explode"], true);
        assert_eq!(op["parameters"][1]["x-collection-format"], "multi");
        assert_eq!(op["parameters"][2]["in"], "header");
        assert_eq!(op["responses"]["200"]["headers"]["X-Foo"]["schema"]["format"], "int64");
        let parsed: openapiv3::OpenAPI = serde_json::from_value(up).unwrap();
        assert_eq!(parsed.servers[0].url, "/v1.41");
    }

    #[test]
    fn invalid_type_list_is_located() {
        let doc = json!({"swagger": "2.0", "info": {"title": "t", "version": "1"}, "paths": {},
            "definitions": {"C": {"type": "object", "properties": {"Cmd": {"type": ["array", "string"]}}}}});
        let err = upgrade(&doc, "v1.30.yaml").unwrap_err();
        assert_eq!(err.0[0].pointer, "/definitions/C/properties/Cmd/type");
    }
}
