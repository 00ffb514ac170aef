//! The `#[proactor::main]` and `#[proactor::test]` attribute macros.
//!
//! Use them through the `proactor` crate, which re-exports them as [`proactor::main`] and
//! [`proactor::test`] behind its default `macros` feature; depending on this crate directly
//! is not needed. Both turn an `async fn` into a plain one that builds a fresh runtime and
//! runs the body on it with `block_on`. The generated code names the runtime as
//! `::proactor::...`, so the crate that uses the macros must depend on `proactor` under that
//! name.
//!
//! Both take the same optional arguments, which set up the runtime's `proactor::Builder`:
//!
//! | argument | meaning | default |
//! | --- | --- | --- |
//! | `backend = "io_uring"`, `"epoll"`, `"kqueue"` or `"iocp"` | forces that backend (`Builder::backend`) | the best one the machine has, or `PROACTOR_BACKEND` |
//! | `entries = N` | the submission queue size, 1 to 32768 (`Builder::entries`) | 256 |
//! | `start_paused = true` | starts with the clock stopped (`Builder::start_paused`, `time::pause`), for tests of timer-heavy code | `false` |
//!
//! An unknown or malformed argument, or a function that is not `async`, is a compile error
//! pointing at the offending tokens.
//!
//! # Examples
//!
//! This example is not compiled here (this crate cannot depend on `proactor`); the same code
//! is compiled and run by the tests in `crates/proactor/tests/macros.rs`.
//!
//! ```ignore
//! #[proactor::main(backend = "epoll", entries = 1024)]
//! async fn main() -> std::io::Result<()> {
//!     let task = proactor::spawn(async { 6 * 7 });
//!     assert_eq!(task.await?, 42);
//!     Ok(())
//! }
//! ```
//!
//! [`proactor::main`]: macro@main
//! [`proactor::test`]: macro@test

#![warn(missing_docs)]

use proc_macro::TokenStream;
use proc_macro2::{Literal, Span, TokenStream as TokenStream2, TokenTree};
use quote::{quote, quote_spanned, ToTokens};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, Ident, ItemFn, Lit, Meta, ReturnType, Token};

/// Runs an `async fn` on a fresh proactor runtime: `#[proactor::main] async fn main()`
/// becomes a plain `fn main()` that builds the runtime and `block_on`s the body.
///
/// The function may return anything `main` can, such as `Result<(), E>`; `?` works in the
/// body. It may also be a function other than `main`, taking arguments: they are moved into
/// the future. The runtime lives only as long as the call.
///
/// # Arguments
///
/// - `backend = "io_uring"`, `"epoll"`, `"kqueue"` or `"iocp"`: forces that backend instead of
///   the best one the machine has (or the one `PROACTOR_BACKEND` names).
/// - `entries = N`: the driver's submission queue size, from 1 to 32768 (default 256).
///
/// # Panics
///
/// The generated function panics if the runtime cannot be built, for instance when the forced
/// backend is not available on this machine.
///
/// # Examples
///
/// Not compiled here (this crate cannot depend on `proactor`); the tests in
/// `crates/proactor/tests/macros.rs` compile and run the same code.
///
/// ```ignore
/// #[proactor::main]
/// async fn main() {
///     let answer = proactor::spawn(async { 42 }).await.unwrap();
///     println!("{answer}");
/// }
/// ```
///
/// With arguments and a `Result`:
///
/// ```ignore
/// #[proactor::main(backend = "epoll", entries = 1024)]
/// async fn main() -> std::io::Result<()> {
///     proactor::time::sleep(std::time::Duration::from_millis(1)).await;
///     Ok(())
/// }
/// ```
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(Kind::Main, args.into(), item.into()).into()
}

/// Runs an `async fn` test on a fresh proactor runtime: `#[proactor::test] async fn name()`
/// becomes a `#[test] fn name()` whose body runs with `block_on` on a runtime of its own.
///
/// Do not add `#[test]` as well. Other attributes such as `#[should_panic]` or `#[ignore]` are
/// kept. The test may return `Result<(), E>` like any test.
///
/// # Arguments
///
/// The same as [`main`](macro@main): `backend = "io_uring"`, `"epoll"`, `"kqueue"` or
/// `"iocp"`, and `entries = N` (1 to 32768); and `start_paused = true`, which starts the
/// runtime with its clock stopped, so timers end without real waiting (`time::pause`).
///
/// # Panics
///
/// The test panics (fails) if the runtime cannot be built, for instance when the forced
/// backend is not available on this machine.
///
/// # Examples
///
/// Not compiled here (this crate cannot depend on `proactor`); the tests in
/// `crates/proactor/tests/macros.rs` compile and run the same code.
///
/// ```ignore
/// #[proactor::test]
/// async fn spawned_task_runs() {
///     assert_eq!(proactor::spawn(async { 1 + 1 }).await.unwrap(), 2);
/// }
///
/// #[proactor::test(backend = "epoll")]
/// async fn on_epoll() -> Result<(), proactor::JoinError> {
///     assert_eq!(proactor::spawn(async { 3 }).await?, 3);
///     Ok(())
/// }
///
/// #[proactor::test(start_paused = true)]
/// async fn a_day_passes_at_once() {
///     proactor::time::sleep(std::time::Duration::from_secs(24 * 3600)).await;
/// }
/// ```
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(Kind::Test, args.into(), item.into()).into()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Main,
    Test,
}

impl Kind {
    fn attribute(self) -> &'static str {
        match self {
            Kind::Main => "#[proactor::main]",
            Kind::Test => "#[proactor::test]",
        }
    }
}

/// The runtime settings given as the attribute's arguments.
#[derive(Default)]
struct Options {
    /// The `proactor::Backend` variant, spanned at the string that named it.
    backend: Option<Ident>,
    entries: Option<u32>,
    start_paused: Option<bool>,
}

/// Accumulates errors so that one expansion reports all of them.
#[derive(Default)]
struct Errors(Option<syn::Error>);

impl Errors {
    fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(errors) => errors.combine(error),
            None => self.0 = Some(error),
        }
    }

    fn to_compile_errors(&self) -> TokenStream2 {
        self.0
            .as_ref()
            .map(syn::Error::to_compile_error)
            .unwrap_or_default()
    }
}

fn expand(kind: Kind, args: TokenStream2, item: TokenStream2) -> TokenStream2 {
    let mut errors = Errors::default();
    let options = parse_options(args, &mut errors);

    let function: ItemFn = match syn::parse2(item.clone()) {
        Ok(function) => function,
        Err(error) => {
            errors.push(syn::Error::new(
                error.span(),
                format!("{} applies to an `async fn`: {error}", kind.attribute()),
            ));
            // Keep the item so that the rest of the crate still resolves it.
            let errors = errors.to_compile_errors();
            return quote! { #errors #item };
        }
    };

    let mut item_errors = Errors::default();
    check_function(kind, &function, &mut item_errors);
    if let Some(error) = item_errors.0 {
        // The function cannot be rewritten: report why and leave it as it was, which avoids
        // follow-on errors (a non-async `fn main` is still a valid `main`).
        errors.push(error);
        let errors = errors.to_compile_errors();
        return quote! { #errors #function };
    }

    // Argument errors still expand (with the arguments that were valid), so that the body is
    // checked and the only errors are the ones about the arguments.
    let errors = errors.to_compile_errors();
    let function = rewrite(kind, function, &options);
    quote! { #errors #function }
}

fn parse_options(args: TokenStream2, errors: &mut Errors) -> Options {
    let mut options = Options::default();
    let metas = match Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args) {
        Ok(metas) => metas,
        Err(error) => {
            errors.push(syn::Error::new(
                error.span(),
                format!(
                    "{error}: the arguments are `backend = \"io_uring\" | \"epoll\" | \
                     \"kqueue\" | \"iocp\"`, `entries = N` and `start_paused = true`"
                ),
            ));
            return options;
        }
    };
    for meta in metas {
        let name = match meta.path().get_ident() {
            Some(name) => name.to_string(),
            None => String::new(),
        };
        let value = match &meta {
            Meta::NameValue(name_value) => Some(&name_value.value),
            Meta::Path(_) | Meta::List(_) => None,
        };
        match (name.as_str(), value) {
            ("backend", Some(value)) => {
                let backend = parse_backend(value).map_err(|error| errors.push(error));
                if options.backend.is_some() {
                    errors.push(syn::Error::new_spanned(
                        &meta,
                        "`backend` is given more than once",
                    ));
                } else if let Ok(backend) = backend {
                    options.backend = Some(backend);
                }
            }
            ("entries", Some(value)) => {
                let entries = parse_entries(value).map_err(|error| errors.push(error));
                if options.entries.is_some() {
                    errors.push(syn::Error::new_spanned(
                        &meta,
                        "`entries` is given more than once",
                    ));
                } else if let Ok(entries) = entries {
                    options.entries = Some(entries);
                }
            }
            ("start_paused", Some(value)) => {
                let paused = parse_bool(value).map_err(|error| errors.push(error));
                if options.start_paused.is_some() {
                    errors.push(syn::Error::new_spanned(
                        &meta,
                        "`start_paused` is given more than once",
                    ));
                } else if let Ok(paused) = paused {
                    options.start_paused = Some(paused);
                }
            }
            ("start_paused", None) => errors.push(syn::Error::new_spanned(
                &meta,
                "`start_paused` needs a value, like `start_paused = true`",
            )),
            ("backend", None) => errors.push(syn::Error::new_spanned(
                &meta,
                "`backend` needs a value, like `backend = \"epoll\"`",
            )),
            ("entries", None) => errors.push(syn::Error::new_spanned(
                &meta,
                "`entries` needs a value, like `entries = 1024`",
            )),
            _ => errors.push(syn::Error::new_spanned(
                meta.path(),
                format!(
                    "unknown argument `{}`; expected `backend = \"io_uring\" | \"epoll\" | \
                     \"kqueue\"`, `entries = N` or `start_paused = true`",
                    meta.path().to_token_stream().to_string().replace(' ', "")
                ),
            )),
        }
    }
    options
}

fn parse_backend(value: &Expr) -> syn::Result<Ident> {
    const EXPECTED: &str = "expected \"io_uring\", \"epoll\", \"kqueue\" or \"iocp\"";
    let Expr::Lit(ExprLit {
        lit: Lit::Str(literal),
        ..
    }) = value
    else {
        return Err(syn::Error::new_spanned(
            value,
            format!("`backend` takes a string literal: {EXPECTED}"),
        ));
    };
    let variant = match literal.value().as_str() {
        "io_uring" => "IoUring",
        "epoll" => "Epoll",
        "kqueue" => "Kqueue",
        "iocp" => "Iocp",
        other => {
            return Err(syn::Error::new_spanned(
                literal,
                format!("unknown backend \"{other}\"; {EXPECTED}"),
            ))
        }
    };
    Ok(Ident::new(variant, literal.span()))
}

fn parse_bool(value: &Expr) -> syn::Result<bool> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Bool(literal),
            ..
        }) => Ok(literal.value),
        _ => Err(syn::Error::new_spanned(
            value,
            "`start_paused` takes `true` or `false`",
        )),
    }
}

fn parse_entries(value: &Expr) -> syn::Result<u32> {
    const RANGE: &str = "`entries` must be an integer from 1 to 32768, like `entries = 1024`";
    let Expr::Lit(ExprLit {
        lit: Lit::Int(literal),
        ..
    }) = value
    else {
        return Err(syn::Error::new_spanned(value, RANGE));
    };
    if !matches!(literal.suffix(), "" | "u32") {
        return Err(syn::Error::new_spanned(literal, RANGE));
    }
    match literal.base10_parse::<u32>() {
        Ok(entries @ 1..=32_768) => Ok(entries),
        _ => Err(syn::Error::new_spanned(literal, RANGE)),
    }
}

fn check_function(kind: Kind, function: &ItemFn, errors: &mut Errors) {
    let signature = &function.sig;
    if signature.asyncness.is_none() {
        errors.push(syn::Error::new_spanned(
            signature.fn_token,
            format!(
                "the `async` keyword is missing from the function declaration: {} applies to \
                 an `async fn`",
                kind.attribute()
            ),
        ));
    }
    if kind == Kind::Test {
        if !signature.inputs.is_empty() {
            errors.push(syn::Error::new_spanned(
                &signature.inputs,
                "test functions cannot take arguments",
            ));
        }
        if !signature.generics.params.is_empty() || signature.generics.where_clause.is_some() {
            errors.push(syn::Error::new_spanned(
                &signature.generics,
                "test functions cannot be generic",
            ));
        }
        for attribute in &function.attrs {
            let path = attribute.path();
            let is_test = path
                .segments
                .last()
                .is_some_and(|last| last.ident == "test");
            if is_test {
                errors.push(syn::Error::new_spanned(
                    attribute,
                    "#[proactor::test] already makes this a test: remove this attribute",
                ));
            }
        }
    }
}

fn rewrite(kind: Kind, mut function: ItemFn, options: &Options) -> TokenStream2 {
    let span = function
        .sig
        .asyncness
        .map_or_else(Span::call_site, |a| a.span);
    function.sig.asyncness = None;

    let body_ident = Ident::new("body", Span::mixed_site());
    let block = &function.block;
    let output_type = match &function.sig.output {
        ReturnType::Default => quote! { () },
        ReturnType::Type(_, ty) => ty.to_token_stream(),
    };
    // Naming the future's output type lets `?` in the body infer its error type. A type with
    // `impl Trait` in it cannot be named in a `let`, so that case goes without.
    let annotation = if contains_impl(output_type.clone()) {
        TokenStream2::new()
    } else {
        // A body of the wrong type is reported at its last statement, not at the attribute.
        let last_span = block
            .stmts
            .last()
            .map_or_else(|| block.span(), Spanned::span);
        let pinned = Ident::new("body", Span::mixed_site().located_at(last_span));
        quote! {
            let #pinned = ::core::pin::pin!(#body_ident);
            let #body_ident: ::core::pin::Pin<
                &mut dyn ::core::future::Future<Output = #output_type>,
            > = #pinned;
        }
    };

    let backend = options.backend.as_ref().map(|variant| {
        quote! { .backend(::proactor::Backend::#variant) }
    });
    let entries = options.entries.map(|entries| {
        let entries = Literal::u32_unsuffixed(entries);
        quote! { .entries(#entries) }
    });
    let start_paused = options
        .start_paused
        .map(|paused| quote! { .start_paused(#paused) });
    let run = quote_spanned! {span=>
        ::proactor::Builder::new()
            #backend
            #entries
            #start_paused
            .build()
            .expect("failed to build the proactor runtime")
            .block_on(#body_ident)
    };

    let new_block = quote! {
        {
            let #body_ident = async move #block;
            #annotation
            #run
        }
    };
    let attributes = &function.attrs;
    let visibility = &function.vis;
    let signature = &function.sig;
    let test_attribute = match kind {
        Kind::Main => TokenStream2::new(),
        Kind::Test => quote! { #[::core::prelude::v1::test] },
    };
    quote! {
        #test_attribute
        #(#attributes)*
        #visibility #signature #new_block
    }
}

/// Whether `tokens` (a type) mentions `impl`, as in `impl Termination`.
fn contains_impl(tokens: TokenStream2) -> bool {
    tokens.into_iter().any(|token| match token {
        TokenTree::Ident(ident) => ident == "impl",
        TokenTree::Group(group) => contains_impl(group.stream()),
        TokenTree::Punct(_) | TokenTree::Literal(_) => false,
    })
}
