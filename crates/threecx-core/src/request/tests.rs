//! Unit tests of request building: keys, literals, bodies, headers and what is borrowed.

use super::*;
use serde_json::json;

const USERS_BY_NUMBER: RequestTemplate = RequestTemplate {
    method: Method::Get,
    path: "/Users(Number={Number})",
    params: &[
        Param {
            name: "Number",
            location: Location::Path,
            literal: Literal::Quoted,
            required: true,
        },
        Param {
            name: "$select",
            location: Location::Query,
            literal: Literal::Bare,
            required: false,
        },
    ],
    response: ResponseKind::Json,
    retry_safe: true,
};

const LIST_USERS: RequestTemplate = RequestTemplate {
    method: Method::Get,
    path: "/Users",
    params: &[Param {
        name: "$top",
        location: Location::Query,
        literal: Literal::Bare,
        required: false,
    }],
    response: ResponseKind::Collection,
    retry_safe: true,
};

const PURGE_CHATS: RequestTemplate = RequestTemplate {
    method: Method::Post,
    path: "/PurgeChats",
    params: &[Param {
        name: "period",
        location: Location::Body,
        literal: Literal::Bare,
        required: false,
    }],
    response: ResponseKind::Empty,
    retry_safe: false,
};

const DELETE_USER: RequestTemplate = RequestTemplate {
    method: Method::Delete,
    path: "/Users({Id})",
    params: &[
        Param {
            name: "Id",
            location: Location::Path,
            literal: Literal::Bare,
            required: true,
        },
        Param {
            name: "If-Match",
            location: Location::Header,
            literal: Literal::Bare,
            required: false,
        },
    ],
    response: ResponseKind::Empty,
    retry_safe: false,
};

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

#[test]
fn string_key_is_quoted_and_select_joined() {
    let r = USERS_BY_NUMBER
        .build(&obj(json!({"Number": "100", "$select": ["Id", "Number"]})))
        .unwrap();
    assert_eq!(r.path_and_query, "/Users(Number='100')?$select=Id,Number");
    assert_eq!(r.body, None);
}

#[test]
fn numbers_are_written_as_json_writes_them() {
    for (top, written) in [
        (json!(250), "250"),
        (json!(0), "0"),
        (json!(i64::MIN), "-9223372036854775808"),
        (json!(u64::MAX), "18446744073709551615"),
        (json!(2.5), "2.5"),
        // serde_json writes `1e+308`; a `+` in a query would read as a space.
        (json!(1e308), "1e%2B308"),
    ] {
        let r = LIST_USERS.build(&obj(json!({ "$top": top }))).unwrap();
        assert_eq!(r.path_and_query, format!("/Users?$top={written}"), "{top}");
    }
}

#[test]
fn injection_stays_inside_the_key() {
    let r = USERS_BY_NUMBER
        .build(&obj(json!({"Number": "x') or ('1'='1"})))
        .unwrap();
    assert_eq!(
        r.path_and_query,
        "/Users(Number='x''%29%20or%20%28''1''%3D''1')"
    );
}

#[test]
fn action_parameters_form_the_body() {
    let r = PURGE_CHATS
        .build(&obj(json!({"period": {"Start": "2024-01-01T00:00:00Z"}})))
        .unwrap();
    assert_eq!(r.path_and_query, "/PurgeChats");
    assert_eq!(
        r.body.as_deref(),
        Some(br#"{"period":{"Start":"2024-01-01T00:00:00Z"}}"#.as_slice())
    );
    let empty = PURGE_CHATS.build(&Map::new()).unwrap();
    assert_eq!(empty.body.as_deref(), Some(b"{}".as_slice()));
}

#[test]
fn several_action_parameters_are_the_bytes_of_their_json_object() {
    const fn body(name: &'static str) -> Param {
        Param {
            name,
            location: Location::Body,
            literal: Literal::Bare,
            required: false,
        }
    }
    const SEVERAL: RequestTemplate = RequestTemplate {
        params: &[body("zeta"), body("Alpha"), body("mid"), body("alpha")],
        ..PURGE_CHATS
    };
    let input = obj(json!({
        "zeta": [1, {"b": 2, "a": "\u{e9}\"\n"}],
        "Alpha": null,
        "alpha": 1.5,
        "mid": {"y": true, "x": "2024"},
        "ignored": "not a parameter"
    }));
    let mut expected = input.clone();
    expected.remove("ignored");
    let r = SEVERAL.build(&input).unwrap();
    assert_eq!(
        r.body.unwrap(),
        serde_json::to_vec(&Value::Object(expected)).unwrap()
    );
}

#[test]
fn header_values_that_http_refuses_are_refused_before_sending() {
    let e = DELETE_USER
        .build(&obj(json!({"Id": 1, "If-Match": "*\r\nX-Evil: 1"})))
        .unwrap_err();
    assert!(e.to_string().contains("/If-Match"), "{e}");
    assert!(DELETE_USER
        .build(&obj(json!({"Id": 1, "If-Match": "W/\"1\""})))
        .is_ok());
}

#[test]
fn missing_path_value_is_invalid_input() {
    let e = USERS_BY_NUMBER.build(&Map::new()).unwrap_err();
    assert!(e.to_string().contains("/Number"), "{e}");
}

/// What the input adds nothing to is the template's own (no allocation per call): the path
/// without placeholders or query options, the usual `Accept` / `Content-Type` list.
#[test]
fn what_the_input_adds_nothing_to_is_borrowed() {
    let names = |r: &PreparedRequest| -> Vec<String> {
        r.headers.iter().map(|(n, _)| n.to_string()).collect()
    };

    let purge = PURGE_CHATS
        .build(&obj(json!({"period": {"All": true}})))
        .unwrap();
    assert!(matches!(purge.path_and_query, Cow::Borrowed("/PurgeChats")));
    assert!(matches!(purge.headers, Cow::Borrowed(_)));
    assert_eq!(names(&purge), ["Accept", "Content-Type"]);

    let all = LIST_USERS.build(&Map::new()).unwrap();
    assert!(matches!(all.path_and_query, Cow::Borrowed("/Users")));
    assert_eq!(names(&all), ["Accept"]);
    let top = LIST_USERS.build(&obj(json!({"$top": 5}))).unwrap();
    assert!(matches!(top.path_and_query, Cow::Owned(_)));
    assert_eq!(top.path_and_query, "/Users?$top=5");

    let user = USERS_BY_NUMBER
        .build(&obj(json!({"Number": "100"})))
        .unwrap();
    assert_eq!(user.path_and_query, "/Users(Number='100')");
    assert!(matches!(user.headers, Cow::Borrowed(_)));

    // A header parameter makes a list of the request's own, after the usual ones.
    let delete = DELETE_USER
        .build(&obj(json!({"Id": 1, "If-Match": "*"})))
        .unwrap();
    assert!(matches!(delete.headers, Cow::Owned(_)));
    assert_eq!(names(&delete), ["Accept", "If-Match"]);
}
